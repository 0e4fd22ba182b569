/*
 * cmd_snapshot.c: `pyheap snapshot [-o FILE] PID`: walk once and write the whole graph, for later
 * (`pyheap attach FILE`, `pyheap diff OLD NEW`), elsewhere (`ssh host sudo pyheap snapshot PID >
 * a.pyheap`) or both. Written to FILE whole or not at all (lib/outfile.h); to standard output
 * with `-o -`, or with no -o when standard output is not a terminal (a binary file must not land
 * on a terminal: refused, saying how to redirect). `--format heapsnapshot` writes a Chrome DevTools
 * heap snapshot instead and `--format collapsed` the dominator tree's collapsed stacks
 * (cmd/retained_out.h), both text.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cli.h"
#include "cmd/retained_out.h"
#include "lib/heap/dominators.h"

/* --format heapsnapshot or collapsed: a picture of the heap instead of pyheap's file. */
static int write_other(struct cli *cli)
{
    struct cli_heaps h;
    struct ph_error err = {0};
    struct ph_dom d = {0};
    ph_status st = cli_load(cli, &h, &err);
    if (st == PH_OK && cli->format == FORMAT_COLLAPSED)
        st = ph_dom_build(&h.g, &d, &err);
    if (st == PH_OK)
        st = write_picture(cli, &h.g, &h.v, &d, &err);
    int rc = st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
    ph_dom_free(&d);
    cli_heaps_free(&h);
    return rc;
}

int cmd_snapshot(struct cli *cli)
{
    if (cli->format != FORMAT_TEXT)
        return write_other(cli);
    const char *path = cli->output ? cli->output : "-";
    if (strcmp(path, "-") == 0 && isatty(1)) {
        fprintf(stderr, "pyheap: a snapshot is binary: not writing it to a terminal; use -o FILE, "
                        "or redirect: pyheap snapshot %s > heap.pyheap\n", cli->sources[0]);
        return PH_ERR_USAGE;
    }
    struct ph_graph g;
    struct ph_error err = {0};
    ph_status st = cli_heap(cli, cli->sources[0], &g, &err);
    if (st == PH_OK)
        st = cli_save(cli, &g, path, &err);
    ph_graph_free(&g);
    return st == PH_OK ? 0 : cli_error(cli, &err);
}
