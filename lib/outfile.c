/*
 * outfile.c: see outfile.h.
 */
#include "lib/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/escape.h"

static ph_status io_fail(const struct ph_outfile *f, struct ph_error *err, const char *what)
{
    return ph_fail(err, PH_ERR_IO, "%s %s: %s", what, f->shown, strerror(errno));
}

/* The n-th hidden name beside the destination: "DIR/.NAME.PID.N.tmp". */
static void sibling_name(struct ph_outfile *f, int n)
{
    char dir[4096], base[4096];
    snprintf(dir, sizeof dir, "%s", f->path); /* dirname and basename may write into these */
    snprintf(base, sizeof base, "%s", f->path);
    snprintf(f->temp, sizeof f->temp, "%s/.%s.%d.%d.tmp", dirname(dir), basename(base),
             (int)getpid(), n);
}

/* Without O_TMPFILE: a fresh hidden file beside the destination. */
static int create_sibling(struct ph_outfile *f)
{
    for (int n = 0; n < 100; n++) {
        sibling_name(f, n);
        int fd = open(f->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

ph_status ph_outfile_open(const char *path, struct ph_outfile *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (strcmp(path, "-") == 0) {
        out->is_stdout = true;
        out->fd = 1;
        snprintf(out->shown, sizeof out->shown, "standard output");
        return PH_OK;
    }
    if (strlen(path) >= sizeof out->path)
        return ph_fail(err, PH_ERR_IO, "output file name too long");
    snprintf(out->path, sizeof out->path, "%s", path);
    ph_escape(path, strlen(path), out->shown, sizeof out->shown);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    out->fd = open(dirname(dir), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (out->fd >= 0) {
        out->unnamed = true;
        return PH_OK;
    }
    out->fd = create_sibling(out);
    return out->fd >= 0 ? PH_OK : io_fail(out, err, "cannot create");
}

/* Name the unnamed file: directly when the name is free, else beside it and renamed over. */
static int link_unnamed(struct ph_outfile *f)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, f->path, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    for (int n = 0; n < 100; n++) {
        sibling_name(f, n);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, f->temp, AT_SYMLINK_FOLLOW) == 0)
            return rename(f->temp, f->path) == 0 ? 0 : (unlink(f->temp), -1);
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

ph_status ph_outfile_commit(struct ph_outfile *f, struct ph_error *err)
{
    if (f->is_stdout)
        return PH_OK; /* the caller checks its writes; nothing to name */
    ph_status st = PH_OK;
    if (fsync(f->fd) != 0 && errno != EINVAL)
        st = io_fail(f, err, "writing");
    else if (f->unnamed ? link_unnamed(f) != 0 : rename(f->temp, f->path) != 0)
        st = io_fail(f, err, "cannot name");
    if (close(f->fd) != 0 && st == PH_OK)
        st = io_fail(f, err, "writing");
    f->fd = -1;
    if (st != PH_OK && !f->unnamed)
        unlink(f->temp);
    return st;
}

void ph_outfile_abort(struct ph_outfile *f)
{
    if (f->is_stdout || f->fd < 0)
        return;
    close(f->fd);
    f->fd = -1;
    if (!f->unnamed)
        unlink(f->temp);
}
