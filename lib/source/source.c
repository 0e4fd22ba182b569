/*
 * source.c: see source.h. Telling the sources apart and the info about each; the work is in
 * live.c (a process) and the snapshot reader (lib/heap/snapshot.h).
 */
#include "lib/source/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/escape.h"
#include "lib/heap/snapshot.h"
#include "lib/source/core_source.h"
#include "lib/source/live.h"

struct ph_source {
    enum ph_source_kind kind;
    struct ph_source_options opts;
    struct ph_live live;                 /* PH_SOURCE_PID */
    struct ph_core_source core;          /* PH_SOURCE_CORE */
    int fd;                              /* PH_SOURCE_FILE */
    bool own_fd;
    char name[256];                      /* the file, escaped, for messages */
    struct ph_snapshot_reader *reader;
};

bool ph_source_is_pid(const char *spec, int *pid)
{
    size_t len = strlen(spec);
    if (len == 0 || len > 10 || strspn(spec, "0123456789") != len)
        return false;
    long long v = strtoll(spec, NULL, 10);
    if (v <= 0 || v > INT32_MAX)
        return false;
    *pid = (int)v;
    return true;
}

/* A file: a snapshot, or (by its ELF magic) a core file. */
static ph_status open_file(struct ph_source *s, const char *spec, struct ph_error *err)
{
    s->kind = PH_SOURCE_FILE;
    if (strcmp(spec, "-") == 0) {
        s->fd = 0;
        snprintf(s->name, sizeof s->name, "standard input");
    } else {
        ph_escape(spec, strlen(spec), s->name, sizeof s->name);
        s->fd = open(spec, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (s->fd < 0 && errno == ENOENT)
            return ph_fail(err, PH_ERR_IO, "'%s': no such file, and not a process id (digits "
                           "only)", s->name);
        if (s->fd < 0)
            return ph_fail(err, PH_ERR_IO, "cannot open %s: %s", s->name, strerror(errno));
        s->own_fd = true;
        struct stat st;
        if (fstat(s->fd, &st) != 0 || S_ISDIR(st.st_mode))
            return ph_fail(err, PH_ERR_IO, "%s is a directory, not a snapshot file", s->name);
        /* Opened without blocking (a FIFO with no writer must not hang); reads block. */
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_NONBLOCK);
        unsigned char magic[4];
        if (S_ISREG(st.st_mode) && pread(s->fd, magic, 4, 0) == 4 && !memcmp(magic, "\177ELF", 4)) {
            s->kind = PH_SOURCE_CORE;
            return ph_core_source_open(spec, &s->opts, &s->core, err);
        }
    }
    return ph_snapshot_open(s->fd, s->name, &s->reader, err);
}

ph_status ph_source_open(const char *spec, const struct ph_source_options *opts,
                         struct ph_source **out, struct ph_error *err)
{
    struct ph_source *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    s->opts = *opts;
    s->fd = -1;
    int pid;
    ph_status st;
    if (ph_source_is_pid(spec, &pid)) {
        s->kind = PH_SOURCE_PID;
        st = ph_live_open(pid, opts, &s->live, err);
    } else {
        st = open_file(s, spec, err);
    }
    if (st != PH_OK) {
        ph_source_close(s);
        return st;
    }
    *out = s;
    return PH_OK;
}

enum ph_source_kind ph_source_kind_of(const struct ph_source *s)
{
    return s->kind;
}

const char *ph_source_warning(const struct ph_source *s)
{
    return s->kind == PH_SOURCE_PID && s->live.warning[0] ? s->live.warning : NULL;
}

const char *ph_source_note(const struct ph_source *s)
{
    return s->kind == PH_SOURCE_PID && s->live.note[0] ? s->live.note : NULL;
}

ph_status ph_source_heap(struct ph_source *s, struct ph_graph *g, struct ph_error *err)
{
    memset(g, 0, sizeof *g);
    if (s->kind == PH_SOURCE_PID)
        return ph_live_walk(&s->live, &s->opts, g, err);
    if (s->kind == PH_SOURCE_CORE)
        return ph_core_source_walk(&s->core, &s->opts, g, err);
    if (!s->reader)
        return ph_fail(err, PH_ERR_USAGE, "%s was read already", s->name);
    if (s->opts.progress) {
        struct ph_progress p = {PH_PHASE_READ, 0, 0, -1.0};
        ph_snapshot_counts(s->reader, &p.objects, &p.decoded);
        p.decoded = 0;
        s->opts.progress(s->opts.progress_ctx, &p);
    }
    ph_status st = ph_snapshot_read(s->reader, g, err);
    ph_snapshot_close(s->reader);
    s->reader = NULL;
    return st;
}

void ph_source_close(struct ph_source *s)
{
    if (!s)
        return;
    if (s->kind == PH_SOURCE_PID)
        ph_live_close(&s->live);
    if (s->kind == PH_SOURCE_CORE)
        ph_core_source_close(&s->core);
    ph_snapshot_close(s->reader);
    if (s->own_fd)
        close(s->fd);
    free(s);
}

/* ---- info ---- */

static ph_status process_interps(const struct py_state *st, struct ph_source_info *out)
{
    out->interps = calloc(st->n + 1, sizeof *out->interps);
    if (!out->interps)
        return PH_ERR_INTERNAL;
    for (size_t i = 0; i < st->n; i++) {
        const struct py_interp *in = &st->interps[i];
        struct ph_interp_info *o = &out->interps[out->ninterps++];
        *o = (struct ph_interp_info){.id = in->id, .addr = in->addr, .collecting = in->collecting};
        o->threads = calloc(in->nthreads + 1, sizeof *o->threads);
        if (!o->threads)
            return PH_ERR_INTERNAL;
        for (size_t k = 0; k < in->nthreads; k++)
            o->threads[o->nthreads++] = (struct ph_thread_info){
                in->threads[k].thread_id, in->threads[k].native_id, in->threads[k].tstate};
    }
    return PH_OK;
}

static ph_status layout_fields(const struct py_target *t, struct ph_source_info *out)
{
    out->fields = calloc(PF_COUNT + 1, sizeof *out->fields);
    if (!out->fields)
        return PH_ERR_INTERNAL;
    for (int f = 0; f < PF_COUNT; f++)
        if (t->layout.v[f] >= 0)
            out->fields[out->nfields++] = (struct ph_layout_field){
                py_field_descs[f].name, t->layout.v[f],
                py_layout_source_name((enum py_layout_source)t->layout.src[f])};
    return PH_OK;
}

/* What info shows of a process, live or from a core: the interpreter, its threads, layout. */
static ph_status process_info(const struct ph_proc *proc, const struct py_target *t,
                              const struct py_state *state, struct ph_source_info *out,
                              struct ph_error *err)
{
    ph_target_meta(proc, t, &out->meta);
    ph_escape(t->elf_path, strlen(t->elf_path), out->runtime_elf, sizeof out->runtime_elf);
    ph_escape(t->debug_file, strlen(t->debug_file), out->debug_file, sizeof out->debug_file);
    snprintf(out->elf_opened_via, sizeof out->elf_opened_via, "%s", t->elf_opened_via);
    out->runtime_addr = t->sym[PY_SYM_RUNTIME];
    out->load_bias = t->load_bias;
    if (process_interps(state, out) != PH_OK || layout_fields(t, out) != PH_OK)
        return ph_fail(err, PH_ERR_INTERNAL, "out of memory");
    return PH_OK;
}

static ph_status live_info(struct ph_source *s, struct ph_source_info *out, struct ph_error *err)
{
    ph_status st = ph_live_state(&s->live, &s->opts, err);
    return st == PH_OK ? process_info(&s->live.proc, &s->live.target, &s->live.state, out, err) : st;
}

static ph_status core_info(struct ph_source *s, struct ph_source_info *out, struct ph_error *err)
{
    ph_status st = ph_core_source_state(&s->core, err);
    if (st == PH_OK)
        st = process_info(&s->core.proc, &s->core.target, &s->core.state, out, err);
    out->meta.host[0] = '\0';
    return st;
}

ph_status ph_source_info(struct ph_source *s, struct ph_source_info *out, struct ph_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = s->kind;
    if (s->kind == PH_SOURCE_PID)
        return live_info(s, out, err);
    if (s->kind == PH_SOURCE_CORE)
        return core_info(s, out, err);
    if (!s->reader)
        return ph_fail(err, PH_ERR_USAGE, "%s was read already", s->name);
    out->meta = *ph_snapshot_meta(s->reader);
    ph_snapshot_counts(s->reader, &out->objects, &out->edges);
    return PH_OK;
}

void ph_source_info_free(struct ph_source_info *info)
{
    for (size_t i = 0; i < info->ninterps; i++)
        free(info->interps[i].threads);
    free(info->interps);
    free(info->fields);
    memset(info, 0, sizeof *info);
}
