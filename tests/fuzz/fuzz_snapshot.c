/*
 * fuzz_snapshot.c: libFuzzer target for the snapshot reader (lib/heap/snapshot_read.c), and for
 * every view on what it accepts: a file that passes the reader's checks flows into partitions,
 * selections, by-id rows and paths, so those must be safe on any graph a file can describe.
 *
 * Built and run by `make fuzz` with clang, -fsanitize=fuzzer,address,undefined, on a seed corpus
 * of real snapshots (tests/fuzz/seeds.py). Each input is handed to the reader through a memfd,
 * as a file would be.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/heap/byid.h"
#include "lib/heap/graph.h"
#include "lib/heap/paths.h"
#include "lib/heap/snapshot.h"
#include "lib/heap/view.h"

/* Every relation, the by-id rows and the paths of a graph the reader accepted. */
static void views(const struct ph_graph *g)
{
    struct ph_view_ctx v;
    struct ph_set all;
    struct ph_error err = {0};
    if (!ph_view_ctx_init(&v, g))
        return;
    if (ph_set_default(g, true, &all)) {
        for (int rel = 0; rel < PH_RELATION_COUNT; rel++) {
            struct ph_partition p;
            if (ph_partition(&v, &all, (enum ph_relation)rel, &p, &err) == PH_OK)
                ph_partition_free(&p);
        }
        struct ph_id_table t;
        if (ph_id_table(&v, &all, 16, &t, &err) == PH_OK) {
            char text[800];
            for (size_t r = 0; r < t.shown; r++)
                ph_id_row_text(&v, &t, r, text, sizeof text);
            ph_id_table_free(&t);
        }
        struct ph_bfs b;
        if (ph_bfs_run(g, &b, &err) == PH_OK) {
            struct ph_text path = {0};
            for (uint32_t i = 0; i < g->n && i < 64; i++)
                ph_path_render(g, &b, i, &path);
            ph_text_free(&path);
            ph_bfs_free(&b);
        }
        ph_set_free(&all);
    }
    ph_view_ctx_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("snapshot", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0) {
        struct ph_snapshot_reader *r;
        struct ph_error err = {0};
        if (ph_snapshot_open(fd, "fuzz", &r, &err) == PH_OK) {
            struct ph_graph g;
            if (ph_snapshot_read(r, &g, &err) == PH_OK)
                views(&g);
            ph_graph_free(&g);
            ph_snapshot_close(r);
        }
    }
    close(fd);
    return 0;
}
