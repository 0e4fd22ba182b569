/*
 * cmd_info.c: `pyheap info PID|FILE`: for a process (live, or in a core file), what interpreter
 * runs in it, how it was built, where its layout came from, its interpreters and threads; for a
 * snapshot file, what its header records (the target, the walk, when and where). Text or JSON
 * (pyheap.info/1).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cli.h"
#include "cmd/json.h"
#include "cmd/render.h"

static size_t thread_count(const struct ph_source_info *in)
{
    size_t n = 0;
    for (size_t i = 0; i < in->ninterps; i++)
        n += in->interps[i].nthreads;
    return n;
}

static void json_layout(struct jw *j, const struct ph_source_info *in)
{
    jw_key(j, "layout");
    jw_obj(j);
    for (size_t f = 0; f < in->nfields; f++) {
        jw_key(j, in->fields[f].name);
        jw_obj(j);
        jw_key(j, "value");
        jw_i64(j, in->fields[f].value);
        jw_key(j, "source");
        jw_str(j, in->fields[f].source);
        jw_end_obj(j);
    }
    jw_end_obj(j);
}

static void json_interps(struct jw *j, const struct ph_source_info *in)
{
    jw_key(j, "interpreters");
    jw_arr(j);
    for (size_t i = 0; i < in->ninterps; i++) {
        const struct ph_interp_info *it = &in->interps[i];
        jw_obj(j);
        jw_key(j, "id"), jw_i64(j, it->id);
        jw_key(j, "address"), jw_hex(j, it->addr);
        jw_key(j, "gc_collecting"), jw_bool(j, it->collecting);
        jw_key(j, "threads");
        jw_arr(j);
        for (size_t k = 0; k < it->nthreads; k++) {
            jw_obj(j);
            jw_key(j, "thread_id"), jw_u64(j, it->threads[k].thread_id);
            jw_key(j, "native_id"), jw_u64(j, it->threads[k].native_id);
            jw_key(j, "tstate"), jw_hex(j, it->threads[k].tstate);
            jw_end_obj(j);
        }
        jw_end_arr(j);
        jw_end_obj(j);
    }
    jw_end_arr(j);
}

static void json_build(struct jw *j, const struct ph_heap_meta *m)
{
    jw_key(j, "build");
    jw_obj(j);
    jw_key(j, "shared"), jw_bool(j, m->shared);
    jw_key(j, "pie"), jw_bool(j, m->pie);
    jw_key(j, "debug"), jw_bool(j, m->debug_build);
    jw_key(j, "free_threaded"), jw_bool(j, m->free_threaded);
    jw_end_obj(j);
}

/* The members a snapshot file records beyond the target: when, where, by what, the walk. */
static void json_snapshot(struct jw *j, const struct ph_source_info *in)
{
    char when[32];
    render_time(in->meta.time, when, sizeof when);
    jw_key(j, "snapshot");
    jw_obj(j);
    jw_key(j, "time"), jw_str(j, when);
    jw_key(j, "host"), jw_str(j, in->meta.host);
    jw_key(j, "pyheap_version"), jw_str(j, in->meta.pyheap_version);
    jw_end_obj(j);
    struct render_info info = {.meta = &in->meta, .objects = in->objects, .edges = in->edges};
    render_json_walk(j, &info);
}

static void print_json(const struct cli *cli, const struct ph_source_info *in)
{
    const struct ph_heap_meta *m = &in->meta;
    char ver[32];
    render_version(m->version_hex, ver, sizeof ver);
    struct jw j;
    jw_init(&j, stdout);
    jw_obj(&j);
    jw_key(&j, "schema"), jw_str(&j, "pyheap.info/1");
    jw_key(&j, "source"), jw_str(&j, in->kind == PH_SOURCE_PID    ? "process"
                                     : in->kind == PH_SOURCE_CORE ? "core"
                                                                  : "snapshot");
    jw_key(&j, "pid"), jw_i64(&j, m->pid);
    jw_key(&j, "nspid"), jw_i64(&j, m->nspid);
    jw_key(&j, "executable"), jw_str(&j, m->exe);
    jw_key(&j, "version"), jw_str(&j, ver);
    jw_key(&j, "version_hex"), jw_u64(&j, m->version_hex);
    jw_key(&j, "version_source"), jw_str(&j, m->version_source);
    json_build(&j, m);
    jw_key(&j, "build_id"), jw_str(&j, m->build_id);
    if (in->kind == PH_SOURCE_CORE) {
        char when[32];
        render_time(in->meta.time, when, sizeof when);
        jw_key(&j, "core_time"), jw_str(&j, when);
    }
    if (in->kind != PH_SOURCE_FILE) {
        jw_key(&j, "runtime_elf"), jw_str(&j, in->runtime_elf);
        jw_key(&j, "runtime_elf_opened_via"), jw_str(&j, in->elf_opened_via);
        jw_key(&j, "runtime_address"), jw_hex(&j, in->runtime_addr);
        jw_key(&j, "load_bias"), jw_hex(&j, in->load_bias);
        jw_key(&j, "threads"), jw_u64(&j, thread_count(in));
        json_interps(&j, in);
        jw_key(&j, "debug_file"), jw_str(&j, in->debug_file);
    } else {
        json_snapshot(&j, in);
    }
    jw_key(&j, "layout_sources");
    jw_arr(&j);
    for (int i = 0; i < m->nlayout; i++)
        jw_str(&j, m->layout[i]);
    jw_end_arr(&j);
    if (cli->layout && in->kind != PH_SOURCE_FILE)
        json_layout(&j, in);
    jw_end_obj(&j);
    jw_done(&j);
}

static void print_text_layout(const struct ph_source_info *in)
{
    printf("layout fields:\n");
    for (size_t f = 0; f < in->nfields; f++)
        printf("  %-32s %6" PRId64 "  %s\n", in->fields[f].name, in->fields[f].value,
               in->fields[f].source);
}

static void print_text_process(const struct ph_source_info *in)
{
    printf("runtime ELF:   %s (build-id %s, opened via %s)\n", in->runtime_elf,
           in->meta.build_id[0] ? in->meta.build_id : "none", in->elf_opened_via);
    printf("_PyRuntime:    0x%" PRIx64 " (load bias 0x%" PRIx64 ")\n", in->runtime_addr, in->load_bias);
    for (size_t i = 0; i < in->ninterps; i++) {
        const struct ph_interp_info *it = &in->interps[i];
        printf("interpreter %" PRId64 " at 0x%" PRIx64 ": %zu thread%s, GC %s\n", it->id, it->addr,
               it->nthreads, it->nthreads == 1 ? "" : "s", it->collecting ? "collecting" : "idle");
        for (size_t k = 0; k < it->nthreads; k++)
            printf("  thread %" PRIu64 " (tid %" PRIu64 ")\n", it->threads[k].thread_id,
                   it->threads[k].native_id);
    }
}

static void print_text_snapshot(const struct ph_source_info *in)
{
    const struct ph_heap_meta *m = &in->meta;
    char when[32];
    render_time(m->time, when, sizeof when);
    printf("build-id:      %s\n", m->build_id[0] ? m->build_id : "none");
    printf("snapshot:      taken %s on %s by pyheap %s\n", when, m->host, m->pyheap_version);
    printf("walk:          %" PRIu64 " objects, %" PRIu64 " edges, %" PRIu64 " reachable, %" PRIu64
           " partial; %d thread%s; target stopped %.1f ms%s\n", in->objects, in->edges,
           m->stats.reachable, m->stats.partial, m->stats.threads, m->stats.threads == 1 ? "" : "s",
           m->stats.frozen_ms, m->stats.copied ? " (copied)" : "");
}

static void print_text(const struct cli *cli, const struct ph_source_info *in)
{
    const struct ph_heap_meta *m = &in->meta;
    char ver[32];
    render_version(m->version_hex, ver, sizeof ver);
    printf("pid:           %" PRId64, m->pid);
    if (m->nspid && m->nspid != m->pid)
        printf(" (pid %" PRId64 " in its namespace)", m->nspid);
    printf("\nexecutable:    %s\n", m->exe);
    printf("python:        %s (from %s)\n", ver, m->version_source);
    printf("build:         %s, %s, %s%s\n", m->shared ? "shared libpython" : "static",
           m->pie ? "PIE" : "not PIE", m->debug_build ? "debug" : "release",
           m->free_threaded ? ", free-threaded" : "");
    if (in->kind == PH_SOURCE_CORE) {
        char when[32];
        render_time(m->time, when, sizeof when);
        printf("core file:     written %s\n", when);
    }
    if (in->kind == PH_SOURCE_FILE)
        print_text_snapshot(in);
    else
        print_text_process(in);
    printf("layout:\n");
    for (int i = 0; i < m->nlayout; i++)
        printf("  %s\n", m->layout[i]);
    if (cli->layout && in->kind != PH_SOURCE_FILE)
        print_text_layout(in);
}

int cmd_info(struct cli *cli)
{
    struct ph_source *src;
    struct ph_source_info in = {0};
    struct ph_error err = {0};
    ph_status st = cli_open_source(cli, cli->sources[0], &src, &err);
    if (st == PH_OK) {
        st = ph_source_info(src, &in, &err);
        ph_source_close(src);
    }
    if (st == PH_OK)
        (cli->json ? print_json : print_text)(cli, &in);
    ph_source_info_free(&in);
    return st == PH_OK ? cli_finish_output() : cli_error(cli, &err);
}
