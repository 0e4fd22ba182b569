/*
 * cli.c: the command and option tables, the parser they drive, and --help.
 *
 * Every option is one row: its long name, an optional short letter, its value's name (NULL for a
 * flag), the commands it belongs to and its help line. Parsing, `pyheap --help`, `pyheap CMD
 * --help` and the man page's option lists (checked by tests/integration/test_docs.py) all come
 * from these rows. Errors are one line that points at the sub-command's help.
 */
#include "cmd/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap/view.h"

static const struct cli_command commands[] = {
    {"info", CMD_INFO, "PID|FILE", "describe the interpreter (or what a snapshot file records)", cmd_info},
    {"attach", CMD_ATTACH, "PID|FILE", "the partition of the live objects by kind, and drill-downs", cmd_attach},
    {"path", CMD_PATH, "PID|FILE", "shortest paths from the roots to objects of a selection", cmd_path},
    {"snapshot", CMD_SNAPSHOT, "PID", "walk the heap once and write it to a file (or stdout)", cmd_snapshot},
    {"diff", CMD_DIFF, "OLD NEW", "what NEW holds that OLD did not (heapy's setref), by kind", cmd_diff},
    {"top", CMD_TOP, "PID|FILE", "the objects that retain the most memory, with their paths", cmd_top},
    {"suspects", CMD_SUSPECTS, "PID|FILE", "leak suspects: where memory accumulates, in sentences", cmd_suspects},
    {"dominators", CMD_DOMINATORS, "PID|FILE", "the dominator chain from the roots down to a selection", cmd_dominators},
    {"flame", CMD_FLAME, "PID|FILE", "an SVG flame graph of retained sizes (the dominator tree)", cmd_flame},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

enum opt_id {
    OPT_HELP, OPT_JSON, OPT_QUIET, OPT_LAYOUT, OPT_DEBUG_FILE, OPT_DEBUG_DIR, OPT_NO_DEBUGINFOD,
    OPT_LAYOUT_FROM, OPT_NO_FREEZE, OPT_COPY, OPT_NO_COPY, OPT_OUTPUT, OPT_SAVE, OPT_SINCE, OPT_INTERVAL,
    OPT_KINDS, OPT_ROWS, OPT_ALL, OPT_BY, OPT_ROW, OPT_KIND, OPT_MIN_SIZE, OPT_MAX_SIZE,
    OPT_MODULE, OPT_REFERRERS, OPT_REFERENTS, OPT_COUNT,
    OPT_RETAINED, OPT_SORT, OPT_THRESHOLD, OPT_FORMAT, OPT_RETRY_FOR, OPT_FULL_PATHS,
};

/* The commands of retained sizes (issue 17); those of them that select like attach. */
#define RETAINED (CMD_TOP | CMD_SUSPECTS | CMD_DOMINATORS | CMD_FLAME)
#define PICKS (SELECTS | CMD_TOP | CMD_DOMINATORS)

#define ALL (CMD_INFO | CMD_ATTACH | CMD_PATH | CMD_SNAPSHOT | CMD_DIFF | RETAINED)
#define WALKS (CMD_ATTACH | CMD_PATH | CMD_SNAPSHOT | CMD_DIFF | RETAINED) /* may walk a live heap */
#define SELECTS (CMD_ATTACH | CMD_PATH | CMD_DIFF)
#define TABLES (CMD_ATTACH | CMD_DIFF)

static const struct opt_def {
    enum opt_id id;
    const char *name;
    char letter;     /* short form, 0 if none */
    const char *arg; /* NULL: a flag */
    unsigned cmds;
    const char *help;
} options[] = {
    {OPT_HELP, "help", 'h', NULL, ALL, "show this help"},
    {OPT_JSON, "json", 0, NULL, ALL & ~(CMD_SNAPSHOT | CMD_FLAME), "print JSON (schemas in pyheap(1)) instead of text"},
    {OPT_QUIET, "quiet", 'q', NULL, ALL, "no progress display on a terminal"},
    {OPT_LAYOUT, "layout", 0, NULL, CMD_INFO, "also print every layout field and its source"},
    {OPT_DEBUG_FILE, "debug-file", 0, "PATH", ALL, "read DWARF for the interpreter from PATH first"},
    {OPT_DEBUG_DIR, "debug-dir", 0, "DIRS", ALL, "':'-separated debug roots (default /usr/lib/debug)"},
    {OPT_NO_DEBUGINFOD, "no-debuginfod", 0, NULL, ALL, "never ask debuginfod servers for debug info"},
    {OPT_LAYOUT_FROM, "layout-from", 0, "SOURCE", ALL, "use only one layout source: dwarf, debug-offsets or table"},
    {OPT_NO_FREEZE, "no-freeze", 0, NULL, ALL, "read without stopping the target (may be inconsistent)"},
    {OPT_COPY, "copy", 0, NULL, WALKS, "always copy the target's memory while stopped (default: when it fits)"},
    {OPT_NO_COPY, "no-copy", 0, NULL, WALKS, "walk the stopped target, no copy: less memory, a longer stop"},
    {OPT_RETRY_FOR, "retry-for", 0, "SECONDS", WALKS, "look again for up to SECONDS at a heap seen changing (default 2)"},
    {OPT_OUTPUT, "output", 'o', "FILE", CMD_SNAPSHOT | CMD_TOP | CMD_FLAME, "write to FILE ('-': standard output)"},
    {OPT_FORMAT, "format", 0, "FORMAT", CMD_SNAPSHOT | CMD_TOP, "heapsnapshot: for Chrome DevTools; collapsed: stacks for flame graphs"},
    {OPT_SAVE, "save", 0, "FILE", CMD_ATTACH | CMD_PATH, "also write the heap looked at to FILE, a snapshot"},
    {OPT_SINCE, "since", 0, "OLD", CMD_ATTACH | CMD_PATH, "only objects new since snapshot OLD (diff's set)"},
    {OPT_INTERVAL, "interval", 0, "SECONDS", CMD_DIFF, "walk PID, wait SECONDS, walk it again, compare"},
    {OPT_KINDS, "kinds", 0, NULL, CMD_DIFF, "compare counts and sizes per kind, OLD against NEW"},
    {OPT_ROWS, "rows", 'n', "N|all", TABLES | CMD_TOP, "rows to print (default 10)"},
    {OPT_ALL, "all", 0, NULL, SELECTS, "include objects not reachable from the roots"},
    {OPT_BY, "by", 0, "RELATION", TABLES, "clodo (default), type, size, rcs, via, module or id"},
    {OPT_ROW, "row", 0, "N", PICKS, "select row N of the default partition first"},
    {OPT_KIND, "kind", 0, "KIND", PICKS, "select objects of one kind, e.g. 'dict of app.Node'"},
    {OPT_MIN_SIZE, "min-size", 0, "BYTES", PICKS, "select objects of at least BYTES"},
    {OPT_MAX_SIZE, "max-size", 0, "BYTES", PICKS, "select objects of at most BYTES"},
    {OPT_MODULE, "module", 0, "NAME", PICKS, "select objects whose class is defined in module NAME"},
    {OPT_REFERRERS, "referrers", 0, NULL, TABLES, "partition the objects that refer to the selection"},
    {OPT_REFERENTS, "referents", 0, NULL, TABLES, "partition the objects the selection refers to"},
    {OPT_COUNT, "count", 0, "K|all", CMD_PATH, "paths to print (default 1)"},
    {OPT_RETAINED, "retained", 0, NULL, TABLES, "add a Retained column: bytes (and % of the heap) freed if the row's objects went away"},
    {OPT_SORT, "sort", 0, "KEY", TABLES, "order rows by size (default) or retained (implies --retained)"},
    {OPT_THRESHOLD, "threshold", 0, "PERCENT", CMD_SUSPECTS, "report what retains more than PERCENT of the heap (default 10)"},
    {OPT_FULL_PATHS, "full-paths", 0, NULL, CMD_PATH, "print every step of long paths (default: repeats counted, middle elided)"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

const struct cli_command *cli_find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void option_lines(FILE *f, unsigned cmds)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!(options[i].cmds & cmds))
            continue;
        char left[48], letter[8] = "";
        if (options[i].letter)
            snprintf(letter, sizeof letter, "-%c, ", options[i].letter);
        snprintf(left, sizeof left, "%s--%s%s%s", letter, options[i].name,
                 options[i].arg ? " " : "", options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-24s %s\n", left, options[i].help);
    }
}

void cli_short_usage(FILE *f)
{
    fprintf(f, "usage: pyheap COMMAND [OPTIONS] PID|FILE\n"
               "commands: info, attach, path, snapshot, diff, top, suspects, dominators, flame\n"
               "(pyheap --help says more)\n");
}

void cli_usage(FILE *f)
{
    fprintf(f, "usage: pyheap COMMAND [OPTIONS] PID|FILE\n\n"
               "Look inside the heap of a running CPython process from outside: no restart, no code\n"
               "injected, nothing written into the target. A PID is a number; anything else is a\n"
               "snapshot FILE written by `pyheap snapshot` ('-': standard input).\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %-8s %s\n", commands[i].name, commands[i].args, commands[i].summary);
    fprintf(f, "\nEach command's --help lists the options it takes.\n\noptions:\n");
    option_lines(f, ALL);
    fprintf(f, "  %-24s %s\n", "--version", "print the version and exit");
    fprintf(f, "\nenvironment:\n"
               "  PYHEAP_DEBUG_DIRS        debug roots, as --debug-dir\n"
               "  DEBUGINFOD_URLS          debuginfod servers to ask for the interpreter's DWARF\n"
               "  DEBUGINFOD_CACHE_PATH    where debuginfod downloads are kept\n"
               "  PYHEAP_CACHE_MB          bound of the memory-read cache in MiB (default 8)\n"
               "  PYHEAP_COPY_MAX_MB       bound of the copy of the target in MiB (default: half\n"
               "                           the available memory; --copy: three quarters)\n"
               "  PYHEAP_NO_PROCESS_VM_READV  read through /proc/PID/mem instead of process_vm_readv\n"
               "\nexit status:\n");
    for (int s = 0; s < PH_STATUS_COUNT; s++)
        fprintf(f, "  %2d  %s\n", s, ph_status_describe((ph_status)s));
    fprintf(f, "\nSee pyheap(1) for details.\n");
}

void cli_command_help(FILE *f, const struct cli_command *c)
{
    fprintf(f, "usage: pyheap %s [OPTIONS] %s\n\n%s\n\noptions:\n", c->name, c->args, c->summary);
    option_lines(f, c->id);
}

static int usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pyheap: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see pyheap %s --help)\n", cli->command->name);
    return PH_ERR_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || *s == ' ' || *s == '+')
        return false;
    *out = v;
    return true;
}

/* A count that may be "all" (-1). */
static bool parse_count(const char *s, long *out)
{
    uint64_t n;
    if (strcmp(s, "all") == 0)
        *out = -1;
    else if (parse_u64(s, &n) && n <= INT32_MAX)
        *out = (long)n;
    else
        return false;
    return true;
}

static int apply_layout_from(struct cli *cli, const char *v)
{
    struct ph_layout_choice *l = &cli->source.layout;
    if (strcmp(v, "dwarf") == 0)
        l->no_debug_offsets = l->no_table = true;
    else if (strcmp(v, "debug-offsets") == 0)
        l->no_dwarf = l->no_table = true;
    else if (strcmp(v, "table") == 0)
        l->no_dwarf = l->no_debug_offsets = true;
    else
        return usage_error(cli, "--layout-from takes dwarf, debug-offsets or table, not '%s'", v);
    return 0;
}

static int apply_number(struct cli *cli, const struct opt_def *o, const char *v)
{
    uint64_t n;
    switch (o->id) {
    case OPT_ROWS:
    case OPT_COUNT:
        if (!parse_count(v, o->id == OPT_ROWS ? &cli->rows : &cli->count))
            return usage_error(cli, "--%s takes a number or 'all', not '%s'", o->name, v);
        return 0;
    case OPT_ROW:
        if (!parse_u64(v, &n) || n > INT32_MAX)
            return usage_error(cli, "--row takes a number, not '%s'", v);
        cli->sel.row = (long)n;
        return 0;
    case OPT_INTERVAL:
        if (!parse_u64(v, &n) || n == 0 || n > 86400)
            return usage_error(cli, "--interval takes seconds from 1 to 86400, not '%s'", v);
        cli->interval = (unsigned)n;
        return 0;
    default: /* OPT_MIN_SIZE, OPT_MAX_SIZE */
        if (!parse_u64(v, o->id == OPT_MIN_SIZE ? &cli->sel.min_size : &cli->sel.max_size))
            return usage_error(cli, "--%s takes a number of bytes, not '%s'", o->name, v);
        return 0;
    }
}

static int apply_threshold(struct cli *cli, const char *v)
{
    char *end;
    errno = 0;
    double pct = strtod(v, &end);
    if (errno || end == v || *end || !(pct >= 0 && pct <= 100))
        return usage_error(cli, "--threshold takes a percentage from 0 to 100, not '%s'", v);
    cli->threshold = pct;
    return 0;
}

/* snapshot: pyheap's own (default), heapsnapshot, collapsed; top: text (default), the same two. */
static int apply_format(struct cli *cli, const char *v)
{
    bool snapshot = cli->command->id == CMD_SNAPSHOT;
    if (strcmp(v, "heapsnapshot") == 0)
        cli->format = FORMAT_HEAPSNAPSHOT;
    else if (strcmp(v, "collapsed") == 0)
        cli->format = FORMAT_COLLAPSED;
    else if (strcmp(v, snapshot ? "pyheap" : "text") == 0)
        cli->format = FORMAT_TEXT;
    else
        return usage_error(cli, "--format takes %s, heapsnapshot or collapsed, not '%s'",
                           snapshot ? "pyheap" : "text", v);
    return 0;
}

static int apply_value(struct cli *cli, const struct opt_def *o, const char *v)
{
    switch (o->id) {
    case OPT_DEBUG_FILE: cli->source.layout.debug_file = v; break;
    case OPT_DEBUG_DIR: cli->source.layout.debug_dirs = v; break;
    case OPT_LAYOUT_FROM: return apply_layout_from(cli, v);
    case OPT_BY:
        if ((cli->by = ph_relation_parse(v)) < 0)
            return usage_error(cli, "--by takes clodo, type, size, rcs, via, module or id, not '%s'", v);
        break;
    case OPT_OUTPUT: cli->output = v; break;
    case OPT_SORT:
        if (strcmp(v, "retained") == 0)
            cli->sort_retained = cli->retained = true;
        else if (strcmp(v, "size") == 0)
            cli->sort_retained = false;
        else
            return usage_error(cli, "--sort takes size or retained, not '%s'", v);
        break;
    case OPT_THRESHOLD: return apply_threshold(cli, v);
    case OPT_FORMAT: return apply_format(cli, v);
    case OPT_SAVE: cli->save = v; break;
    case OPT_SINCE: cli->since = v; break;
    case OPT_RETRY_FOR: {
        char *end;
        double secs = strtod(v, &end);
        if (end == v || *end || !(secs >= 0 && secs <= 3600))
            return usage_error(cli, "--retry-for takes seconds from 0 to 3600, not '%s'", v);
        cli->source.retry_ms = secs > 0 ? (int)(secs * 1000 + 0.5) : -1;
        if (secs > 0 && cli->source.retry_ms == 0)
            cli->source.retry_ms = 1;
        break;
    }
    case OPT_KIND: cli->sel.kind = v; break;
    case OPT_MODULE: cli->sel.module = v; break;
    default: return apply_number(cli, o, v);
    }
    return 0;
}

static void apply_flag(struct cli *cli, enum opt_id id)
{
    switch (id) {
    case OPT_JSON: cli->json = true; break;
    case OPT_QUIET: cli->quiet = true; break;
    case OPT_LAYOUT: cli->layout = true; break;
    case OPT_NO_DEBUGINFOD: cli->source.layout.no_debuginfod = true; break;
    case OPT_NO_FREEZE: cli->source.no_freeze = true; break;
    case OPT_COPY: cli->source.copy = PH_COPY_ALWAYS; break;
    case OPT_NO_COPY: cli->source.copy = PH_COPY_NEVER; break;
    case OPT_KINDS: cli->kinds = true; break;
    case OPT_ALL: cli->all = true; break;
    case OPT_REFERRERS: cli->sel.referrers = true; break;
    case OPT_REFERENTS: cli->sel.referents = true; break;
    case OPT_RETAINED: cli->retained = true; break;
    case OPT_FULL_PATHS: cli->full_paths = true; break;
    default: break;
    }
}

static const struct opt_def *find_option(const char *name, size_t len, char letter)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (letter ? options[i].letter == letter
                   : strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static int add_source(struct cli *cli, const char *s)
{
    if (cli->nsources >= CLI_MAX_SOURCES)
        return usage_error(cli, "unexpected argument '%s'", s);
    cli->sources[cli->nsources++] = s;
    return 0;
}

/* One option at argv[*i]: "--name", "--name=value", "-x" or "-x value". */
static int parse_option(struct cli *cli, int argc, char **argv, int *i, bool *done)
{
    bool is_long = argv[*i][1] == '-';
    const char *arg = argv[*i] + (is_long ? 2 : 1);
    const char *eq = is_long ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct opt_def *o = is_long || len == 1 ? find_option(arg, len, is_long ? 0 : arg[0]) : NULL;
    if (!o || !(o->cmds & cli->command->id))
        return usage_error(cli, "'%s' is not an option of '%s'", argv[*i], cli->command->name);
    if (o->id == OPT_HELP) {
        cli_command_help(stdout, cli->command);
        *done = true;
        return 0;
    }
    if (!o->arg) {
        if (eq)
            return usage_error(cli, "--%s takes no value", o->name);
        apply_flag(cli, o->id);
        return 0;
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
        if (*i + 1 >= argc)
            return usage_error(cli, "--%s needs a value (%s)", o->name, o->arg);
        v = argv[++*i];
    }
    return apply_value(cli, o, v);
}

/* What the command needs, beyond each option's own value. */
static int check_sources(struct cli *cli)
{
    const char *name = cli->command->name;
    int want = cli->command->id == CMD_DIFF && !cli->interval ? 2 : 1;
    if (cli->nsources != want) {
        if (cli->command->id == CMD_DIFF)
            return usage_error(cli, cli->interval ? "'diff --interval' takes one process id"
                                                  : "'diff' takes two heaps: OLD NEW (a file or a PID each)");
        return usage_error(cli, cli->nsources ? "'%s' takes one process id or file"
                                              : "'%s' needs a process id (or a snapshot file)", name);
    }
    if (cli->interval) {
        int pid;
        if (!ph_source_is_pid(cli->sources[0], &pid))
            return usage_error(cli, "--interval walks a live process twice: give a PID, not '%s'",
                               cli->sources[0]);
    }
    return 0;
}

static int check_combinations(struct cli *cli)
{
    if (cli->source.copy == PH_COPY_ALWAYS && cli->source.no_freeze) /* a copy needs the stop */
        return usage_error(cli, "choose one of --copy (copy while stopped) and --no-freeze "
                                "(never stop)");
    if (cli->sel.referrers && cli->sel.referents)
        return usage_error(cli, "choose one of --referrers and --referents");
    if (cli->command->id == CMD_PATH && !ph_selection_active(&cli->sel))
        return usage_error(cli, "'path' needs a selection, e.g. pyheap path --kind app.Node PID "
                                "(--row, --kind, --module, --min-size, --max-size)");
    if (cli->kinds && (ph_selection_active(&cli->sel) || cli->by || cli->retained))
        return usage_error(cli, "--kinds compares whole heaps: it takes no selection, --by or --retained");
    return 0;
}

int cli_parse(struct cli *cli, int argc, char **argv, bool *done)
{
    *done = false;
    bool options_end = false;
    for (int i = 0; i < argc; i++) {
        int rc;
        if (!options_end && strcmp(argv[i], "--") == 0)
            options_end = true, rc = 0;
        else if (!options_end && argv[i][0] == '-' && argv[i][1])
            rc = parse_option(cli, argc, argv, &i, done);
        else
            rc = add_source(cli, argv[i]);
        if (rc || *done)
            return rc;
    }
    int rc = check_sources(cli);
    return rc ? rc : check_combinations(cli);
}
