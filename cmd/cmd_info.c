/*
 * cmd_info.c: `pyheap info PID`: what interpreter runs in the target, how it was built, where
 * its layout came from, its interpreters and threads. Text or JSON (schema pyheap.info/1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"
#include "lib/escape.h"

static size_t thread_count(const struct py_state *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++)
        n += st->interps[i].nthreads;
    return n;
}

static void json_layout(struct jw *j, const struct py_target *t)
{
    jw_key(j, "layout");
    jw_obj(j);
    for (int f = 0; f < PF_COUNT; f++) {
        if (t->layout.v[f] < 0)
            continue;
        jw_key(j, py_field_descs[f].name);
        jw_obj(j);
        jw_key(j, "value");
        jw_i64(j, t->layout.v[f]);
        jw_key(j, "source");
        jw_str(j, py_layout_source_name((enum py_layout_source)t->layout.src[f]));
        jw_end_obj(j);
    }
    jw_end_obj(j);
}

static void json_interps(struct jw *j, const struct py_state *st)
{
    jw_key(j, "interpreters");
    jw_arr(j);
    for (size_t i = 0; i < st->n; i++) {
        const struct py_interp *in = &st->interps[i];
        jw_obj(j);
        jw_key(j, "id"), jw_i64(j, in->id);
        jw_key(j, "address"), jw_hex(j, in->addr);
        jw_key(j, "gc_collecting"), jw_bool(j, in->collecting);
        jw_key(j, "threads");
        jw_arr(j);
        for (size_t k = 0; k < in->nthreads; k++) {
            jw_obj(j);
            jw_key(j, "thread_id"), jw_u64(j, in->threads[k].thread_id);
            jw_key(j, "native_id"), jw_u64(j, in->threads[k].native_id);
            jw_key(j, "tstate"), jw_hex(j, in->threads[k].tstate);
            jw_end_obj(j);
        }
        jw_end_arr(j);
        jw_end_obj(j);
    }
    jw_end_arr(j);
}

static void print_json(const struct cli *cli, const struct ph_session *s)
{
    const struct py_target *t = &s->target;
    char ver[32], exe[PATH_MAX + 64], elf[PATH_MAX + 64];
    render_version(t->version_hex, ver, sizeof ver);
    ph_escape(s->proc.exe, strlen(s->proc.exe), exe, sizeof exe);
    ph_escape(t->elf_path, strlen(t->elf_path), elf, sizeof elf);
    struct jw j;
    jw_init(&j, stdout);
    jw_obj(&j);
    jw_key(&j, "schema"), jw_str(&j, "pyheap.info/1");
    jw_key(&j, "pid"), jw_i64(&j, s->pid);
    jw_key(&j, "nspid"), jw_i64(&j, s->proc.nspid);
    jw_key(&j, "executable"), jw_str(&j, exe);
    jw_key(&j, "version"), jw_str(&j, ver);
    jw_key(&j, "version_hex"), jw_u64(&j, t->version_hex);
    jw_key(&j, "version_source"), jw_str(&j, t->version_source);
    jw_key(&j, "build");
    jw_obj(&j);
    jw_key(&j, "shared"), jw_bool(&j, t->shared);
    jw_key(&j, "pie"), jw_bool(&j, t->pie);
    jw_key(&j, "debug"), jw_bool(&j, t->debug_build);
    jw_key(&j, "free_threaded"), jw_bool(&j, t->free_threaded);
    jw_end_obj(&j);
    jw_key(&j, "runtime_elf"), jw_str(&j, elf);
    jw_key(&j, "runtime_elf_opened_via"), jw_str(&j, t->elf_opened_via);
    jw_key(&j, "build_id"), jw_str(&j, t->build_id);
    jw_key(&j, "runtime_address"), jw_hex(&j, t->sym[PY_SYM_RUNTIME]);
    jw_key(&j, "load_bias"), jw_hex(&j, t->load_bias);
    jw_key(&j, "threads"), jw_u64(&j, thread_count(&s->state));
    json_interps(&j, &s->state);
    jw_key(&j, "debug_file"), jw_str(&j, t->debug_file);
    jw_key(&j, "layout_sources");
    jw_arr(&j);
    for (int i = 0; i < t->sources.n; i++)
        jw_str(&j, t->sources.line[i]);
    jw_end_arr(&j);
    if (cli->layout)
        json_layout(&j, t);
    jw_end_obj(&j);
    jw_done(&j);
}

static void print_text_layout(const struct py_target *t)
{
    printf("layout fields:\n");
    for (int f = 0; f < PF_COUNT; f++) {
        if (t->layout.v[f] < 0)
            continue;
        printf("  %-32s %6" PRId64 "  %s\n", py_field_descs[f].name, t->layout.v[f],
               py_layout_source_name((enum py_layout_source)t->layout.src[f]));
    }
}

static void print_text(const struct cli *cli, const struct ph_session *s)
{
    const struct py_target *t = &s->target;
    char ver[32], exe[PATH_MAX + 64], elf[PATH_MAX + 64];
    render_version(t->version_hex, ver, sizeof ver);
    ph_escape(s->proc.exe, strlen(s->proc.exe), exe, sizeof exe);
    ph_escape(t->elf_path, strlen(t->elf_path), elf, sizeof elf);
    printf("pid:           %d", (int)s->pid);
    if (s->proc.nspid != s->pid)
        printf(" (pid %d in its namespace)", (int)s->proc.nspid);
    printf("\nexecutable:    %s\n", exe);
    printf("python:        %s (from %s)\n", ver, t->version_source);
    printf("build:         %s, %s, %s%s\n", t->shared ? "shared libpython" : "static",
           t->pie ? "PIE" : "not PIE", t->debug_build ? "debug" : "release",
           t->free_threaded ? ", free-threaded" : "");
    printf("runtime ELF:   %s (build-id %s, opened via %s)\n", elf, t->build_id[0] ? t->build_id : "none",
           t->elf_opened_via);
    printf("_PyRuntime:    0x%" PRIx64 " (load bias 0x%" PRIx64 ")\n", t->sym[PY_SYM_RUNTIME], t->load_bias);
    for (size_t i = 0; i < s->state.n; i++) {
        const struct py_interp *in = &s->state.interps[i];
        printf("interpreter %" PRId64 " at 0x%" PRIx64 ": %zu thread%s, GC %s\n", in->id, in->addr,
               in->nthreads, in->nthreads == 1 ? "" : "s", in->collecting ? "collecting" : "idle");
        for (size_t k = 0; k < in->nthreads; k++)
            printf("  thread %" PRIu64 " (tid %" PRIu64 ")\n", in->threads[k].thread_id,
                   in->threads[k].native_id);
    }
    printf("layout:\n");
    for (int i = 0; i < t->sources.n; i++)
        printf("  %s\n", t->sources.line[i]);
    if (cli->layout)
        print_text_layout(t);
}

int cmd_info(struct cli *cli)
{
    struct ph_session s;
    struct ph_error err = {0};
    ph_status st = cli_open_session(cli, &s, &err);
    if (st == PH_OK)
        st = ph_session_state(&s, &cli->session, &err);
    if (st != PH_OK) {
        ph_session_close(&s);
        return cli_error(cli, &err);
    }
    if (cli->json)
        print_json(cli, &s);
    else
        print_text(cli, &s);
    ph_session_close(&s);
    return 0;
}
