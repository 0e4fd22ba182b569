/*
 * retained_out.c: see retained_out.h.
 */
#include "cmd/retained_out.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <unistd.h>

#include "lib/heap/flame.h"
#include "lib/heap/heapsnapshot.h"
#include "lib/outfile.h"

static bool is_stdout(const char *path)
{
    return !path || strcmp(path, "-") == 0;
}

ph_status out_open(const char *path, FILE **out, struct ph_error *err)
{
    *out = is_stdout(path) ? stdout : fopen(path, "w");
    if (!*out)
        return ph_fail(err, PH_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return PH_OK;
}

ph_status out_close(FILE *f, const char *path, struct ph_error *err)
{
    if (is_stdout(path))
        return PH_OK; /* cli_finish_output checks standard output */
    bool bad = fflush(f) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = true;
        e = errno;
    }
    if (bad)
        return ph_fail(err, PH_ERR_IO, "writing %s failed: %s", path, strerror(e ? e : EIO));
    return PH_OK;
}

char *fmt_bytes(uint64_t v, char *buf, size_t cap)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

double share(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* The picture into an open output file. */
static ph_status picture_to(struct cli *cli, const struct ph_graph *g, struct ph_view_ctx *v,
                            const struct ph_dom *d, int fd, const char *name,
                            struct ph_error *err)
{
    if (cli->format == FORMAT_HEAPSNAPSHOT)
        return ph_heapsnapshot_write(g, fd, name, err);
    int copy = dup(fd);
    FILE *f = copy < 0 ? NULL : fdopen(copy, "w");
    if (!f) {
        if (copy >= 0)
            close(copy);
        return ph_fail(err, PH_ERR_IO, "writing %s failed: %s", name, strerror(errno));
    }
    struct ph_flame fl;
    ph_status st = ph_flame_build(v, d, &fl, err);
    if (st == PH_OK)
        st = ph_flame_write_collapsed(v, &fl, f, err);
    ph_flame_free(&fl);
    if (fclose(f) != 0 && st == PH_OK)
        st = ph_fail(err, PH_ERR_IO, "writing %s failed: %s", name, strerror(errno));
    return st;
}

ph_status write_picture(struct cli *cli, const struct ph_graph *g, struct ph_view_ctx *v,
                        const struct ph_dom *d, struct ph_error *err)
{
    struct ph_outfile out;
    fflush(stdout);
    ph_status st = ph_outfile_open(cli->output ? cli->output : "-", &out, err);
    if (st != PH_OK)
        return st;
    st = picture_to(cli, g, v, d, out.fd, out.shown, err);
    if (st == PH_OK && *cli->cancel)
        st = ph_fail(err, PH_ERR_INTERRUPTED, "interrupted; nothing written");
    if (st == PH_OK)
        return ph_outfile_commit(&out, err);
    ph_outfile_abort(&out);
    return st;
}
