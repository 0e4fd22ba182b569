/*
 * cli.h: the command line. One table lists the sub-commands and one table lists every option
 * with the commands it applies to; both drive parsing and --help, so the help text cannot drift
 * from what is parsed. (The man page and README are checked against --help by a test.)
 */
#ifndef PH_CLI_H
#define PH_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/session.h"

enum cli_cmd { CMD_INFO = 1 << 0, CMD_ATTACH = 1 << 1, CMD_PATH = 1 << 2 };

struct cli {
    const struct cli_command *command;
    pid_t pid;
    bool json, layout, all, no_freeze, referrers, referents;
    long rows;            /* -1 = all */
    int by;               /* enum ph_relation */
    long row;             /* -1 = none */
    const char *kind;
    const char *module;
    uint64_t min_size, max_size;
    long count;           /* paths */
    struct ph_session_options session;
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
void cli_command_help(FILE *f, const struct cli_command *c);
const struct cli_command *cli_find_command(const char *name);

/* Commands (cmd/cmd_*.c). */
int cmd_info(struct cli *cli);
int cmd_attach(struct cli *cli);
int cmd_path(struct cli *cli);

/* Shared by commands (cmd/common.c): report a failure as one line on stderr and return the
 * exit code; open a session with progress and test hooks. */
int cli_error(const struct cli *cli, const struct ph_error *err);
ph_status cli_open_session(struct cli *cli, struct ph_session *s, struct ph_error *err);
/* Open the session and walk the heap; on failure the session is already closed. */
ph_status cli_walk(struct cli *cli, struct ph_session *s, struct ph_error *err);
/* The selection options (--row, --kind, sizes, --module, --referrers/--referents) applied to
 * base, in heapy's order (cmd/cmd_attach.c). */
struct ph_view_ctx;
struct ph_set;
struct render_info;
ph_status cli_select_objects(struct cli *cli, struct ph_view_ctx *v, const struct ph_set *base,
                             struct ph_set *out, struct ph_error *err);
/* The view of a walked session and the objects the command line selects in it: the default set
 * (reachable, or everything with --all) narrowed by the selection options. *v and *sel are set
 * up even on failure: the caller frees both. */
ph_status cli_view_selection(struct cli *cli, struct ph_session *s, struct ph_view_ctx *v,
                             struct ph_set *sel, struct ph_error *err);
/* What the renderers print about the walk (pid, version, timings, unreachable totals). */
void cli_render_info(const struct cli *cli, const struct ph_session *s, struct render_info *info);

#endif
