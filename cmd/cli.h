/*
 * cli.h: the command line. One table lists the sub-commands and one table lists every option
 * with the commands it applies to; both drive parsing and --help, so the help text cannot drift
 * from what is parsed. (The man page and README are checked against --help by a test.)
 *
 * cmd/ holds no heap logic: a command parses, gets its heaps from lib/source, asks lib/heap for
 * the view, and prints it.
 */
#ifndef PH_CLI_H
#define PH_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/heap/graph.h"
#include "lib/heap/select.h"
#include "lib/heap/view.h"
#include "lib/source/source.h"

enum cli_cmd {
    CMD_INFO = 1 << 0, CMD_ATTACH = 1 << 1, CMD_PATH = 1 << 2, CMD_SNAPSHOT = 1 << 3,
    CMD_DIFF = 1 << 4,
    CMD_TOP = 1 << 8, CMD_SUSPECTS = 1 << 9, CMD_DOMINATORS = 1 << 10, CMD_FLAME = 1 << 11,
};

/* --format: what a picture-making command writes. */
enum cli_format { FORMAT_TEXT = 0, FORMAT_COLLAPSED, FORMAT_HEAPSNAPSHOT };

#define CLI_MAX_SOURCES 2

struct cli {
    const struct cli_command *command;
    const char *sources[CLI_MAX_SOURCES]; /* PIDs or files, as given */
    int nsources;
    bool json, layout, all, quiet, kinds;
    long rows;            /* -1 = all */
    int by;               /* enum ph_relation */
    long count;           /* paths; -1 = all */
    const char *output;   /* -o FILE of snapshot, top, flame ("-" or NULL: stdout) */
    const char *save;     /* --save FILE: also write the heap looked at */
    const char *since;    /* --since OLD: only objects new since that snapshot */
    unsigned interval;    /* diff --interval SECONDS */
    bool full_paths;      /* path: every step of long paths */
    struct ph_selection sel;
    bool retained, sort_retained; /* --retained, --sort retained */
    double threshold;     /* suspects: percent of the heap */
    int format;           /* enum cli_format */
    struct ph_source_options source;
    volatile sig_atomic_t *cancel;
};

struct cli_command {
    const char *name;
    enum cli_cmd id;
    const char *args;
    const char *summary;
    int (*run)(struct cli *cli);
};

/* Parse argv after the command name into cli. Returns 0, or an exit code (usage error printed,
 * or 0 after printing help: *done set). */
int cli_parse(struct cli *cli, int argc, char **argv, bool *done);
void cli_usage(FILE *f);
void cli_short_usage(FILE *f);
void cli_command_help(FILE *f, const struct cli_command *c);
const struct cli_command *cli_find_command(const char *name);

/* Commands (cmd/cmd_*.c). */
int cmd_info(struct cli *cli);
int cmd_attach(struct cli *cli);
int cmd_path(struct cli *cli);
int cmd_snapshot(struct cli *cli);
int cmd_diff(struct cli *cli);
int cmd_top(struct cli *cli);
int cmd_suspects(struct cli *cli);
int cmd_dominators(struct cli *cli);
int cmd_flame(struct cli *cli);

/* Shared by commands (cmd/common.c). */
/* Report a failure as one line on stderr; returns the exit code. */
int cli_error(const struct cli *cli, const struct ph_error *err);
/* Open a source with the progress display and the test hooks. */
ph_status cli_open_source(struct cli *cli, const char *spec, struct ph_source **out,
                          struct ph_error *err);
/* The heap of one source (opened, read or walked, closed). g is set up even on failure: the
 * caller frees it. */
ph_status cli_heap(struct cli *cli, const char *spec, struct ph_graph *g, struct ph_error *err);
/* The heaps a command looks at and the objects it shows. */
struct cli_heaps {
    struct ph_graph g;       /* the heap (NEW for a comparison) */
    struct ph_graph old;     /* diff's OLD, or --since's */
    bool have_old;
    struct ph_view_ctx v;    /* the view of g */
    struct ph_set base;      /* g's default set: reachable objects, or every one with --all */
    struct ph_set start;     /* base, or its objects not in OLD */
    struct ph_set sel;       /* start narrowed by the selection options */
    unsigned shared;         /* START_IS_BASE, SEL_IS_START: the same array, freed once */
};
enum { START_IS_BASE = 1, SEL_IS_START = 2 };
/* Get the heap(s) the command line names (walked or read; --save written), and unless
 * --kinds, the view and the selection. h is set up even on failure: free it with
 * cli_heaps_free. */
ph_status cli_load(struct cli *cli, struct cli_heaps *h, struct ph_error *err);
void cli_heaps_free(struct cli_heaps *h);
/* What --all would add to the selection (the "Not shown" line). */
ph_status cli_unshown(struct cli *cli, struct cli_heaps *h, uint64_t *count, uint64_t *size,
                      struct ph_error *err);
/* Write g as a snapshot to path ("-": stdout), whole or not at all. */
ph_status cli_save(const struct cli *cli, const struct ph_graph *g, const char *path,
                   struct ph_error *err);
/* attach's table of h's selection (cmd_attach.c), shared with diff. */
struct cli_heaps;
ph_status attach_report(struct cli *cli, struct cli_heaps *h, struct ph_error *err);
/* Finish stdout: flush and check every write made to it. 0, or PH_ERR_IO after one line. */
int cli_finish_output(void);

#endif
