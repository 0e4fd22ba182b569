/*
 * cli.c: the command and option tables, the parser they drive, and --help.
 */
#include "cmd/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap/view.h"

static const struct cli_command commands[] = {
    {"info", CMD_INFO, "PID", "describe the interpreter: version, build, threads, layout sources", cmd_info},
    {"attach", CMD_ATTACH, "PID", "walk the heap and print the partition of live objects by kind", cmd_attach},
    {"path", CMD_PATH, "PID", "print shortest paths from the roots to objects of a selection", cmd_path},
    {"top", CMD_TOP, "PID", "print the objects that retain the most memory, with their paths", cmd_top},
    {"suspects", CMD_SUSPECTS, "PID", "name the objects that accumulate memory: leak suspects", cmd_suspects},
    {"dominators", CMD_DOMINATORS, "PID", "print the dominator chain from the roots to a selection", cmd_dominators},
    {"flame", CMD_FLAME, "PID", "write an SVG flame graph of retained sizes (dominator tree)", cmd_flame},
};

enum opt_id {
    OPT_HELP, OPT_JSON, OPT_LAYOUT, OPT_DEBUG_FILE, OPT_DEBUG_DIR, OPT_NO_DEBUGINFOD,
    OPT_LAYOUT_FROM, OPT_NO_FREEZE, OPT_COPY, OPT_ROWS, OPT_ALL, OPT_BY, OPT_ROW, OPT_KIND,
    OPT_MIN_SIZE, OPT_MAX_SIZE, OPT_MODULE, OPT_REFERRERS, OPT_REFERENTS, OPT_COUNT,
    OPT_RETAINED, OPT_SORT, OPT_THRESHOLD, OPT_FORMAT, OPT_OUTPUT,
};

/* The commands of retained sizes (issue 17), and those that select objects like attach. */
#define RETAINED (CMD_TOP | CMD_SUSPECTS | CMD_DOMINATORS | CMD_FLAME)
#define SELECTS (CMD_ATTACH | CMD_PATH | CMD_TOP | CMD_DOMINATORS)
#define ALL (CMD_INFO | CMD_ATTACH | CMD_PATH | RETAINED)
#define HEAP (CMD_ATTACH | CMD_PATH)

static const struct opt_def {
    enum opt_id id;
    const char *name;
    const char *arg; /* NULL: a flag */
    unsigned cmds;
    const char *help;
    char letter; /* a one-letter form ("-n"), or 0 */
} options[] = {
    {OPT_HELP, "help", NULL, ALL, "show this help"},
    {OPT_JSON, "json", NULL, ALL, "print JSON (schemas in pyheap(1)) instead of text"},
    {OPT_LAYOUT, "layout", NULL, CMD_INFO, "also print every layout field and its source"},
    {OPT_DEBUG_FILE, "debug-file", "PATH", ALL, "read DWARF for the interpreter from PATH first"},
    {OPT_DEBUG_DIR, "debug-dir", "DIRS", ALL, "':'-separated debug roots (default /usr/lib/debug)"},
    {OPT_NO_DEBUGINFOD, "no-debuginfod", NULL, ALL, "never ask debuginfod servers for debug info"},
    {OPT_LAYOUT_FROM, "layout-from", "SOURCE", ALL, "use only one layout source: dwarf, debug-offsets or table"},
    {OPT_NO_FREEZE, "no-freeze", NULL, ALL, "read without stopping the target (may be inconsistent)"},
    {OPT_COPY, "copy", NULL, HEAP | RETAINED, "copy the target's memory while stopped, walk after: shorter stop, more memory"},
    {OPT_ROWS, "rows", "N|all", HEAP | CMD_TOP, "rows to print (default 10)", 'n'},
    {OPT_ALL, "all", NULL, HEAP, "include objects not reachable from the roots"},
    {OPT_BY, "by", "RELATION", CMD_ATTACH, "clodo (default), type, size, rcs, via, module or id"},
    {OPT_ROW, "row", "N", SELECTS, "select row N of the default partition first"},
    {OPT_KIND, "kind", "KIND", SELECTS, "select objects of one kind, e.g. 'dict of app.Node'"},
    {OPT_MIN_SIZE, "min-size", "BYTES", SELECTS, "select objects of at least BYTES"},
    {OPT_MAX_SIZE, "max-size", "BYTES", SELECTS, "select objects of at most BYTES"},
    {OPT_MODULE, "module", "NAME", SELECTS, "select objects whose class is defined in module NAME"},
    {OPT_REFERRERS, "referrers", NULL, CMD_ATTACH, "partition the objects that refer to the selection"},
    {OPT_REFERENTS, "referents", NULL, CMD_ATTACH, "partition the objects the selection refers to"},
    {OPT_COUNT, "count", "K", CMD_PATH, "paths to print (default 1)"},
    {OPT_RETAINED, "retained", NULL, CMD_ATTACH, "add a Retained column: bytes (and % of the heap) freed if the row's objects went away"},
    {OPT_SORT, "sort", "KEY", CMD_ATTACH, "order rows by size (default) or retained (implies --retained)"},
    {OPT_THRESHOLD, "threshold", "PERCENT", CMD_SUSPECTS, "report what retains more than PERCENT of the heap (default 10)"},
    {OPT_FORMAT, "format", "FORMAT", CMD_TOP, "text (default); collapsed: stacks for flame graph tools; heapsnapshot: Chrome DevTools"},
    {OPT_OUTPUT, "output", "FILE", CMD_TOP | CMD_FLAME, "write to FILE instead of standard output", 'o'},
};

#define NOPTIONS (sizeof options / sizeof options[0])

const struct cli_command *cli_find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void option_lines(FILE *f, unsigned cmds)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!(options[i].cmds & cmds))
            continue;
        char left[48], letter[16] = "";
        if (options[i].letter)
            snprintf(letter, sizeof letter, ", -%c%s%s", options[i].letter,
                     options[i].arg ? " " : "", options[i].arg && strlen(options[i].arg) < 5 ? options[i].arg : "N");
        snprintf(left, sizeof left, "--%s%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "", letter);
        fprintf(f, "  %-24s %s\n", left, options[i].help);
    }
}

void cli_usage(FILE *f)
{
    fprintf(f, "usage: pyheap COMMAND [OPTIONS] PID\n\n"
               "Look inside the heap of a running CPython process from outside: no restart, no code\n"
               "injected, nothing written into the target.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %-5s %s\n", commands[i].name, commands[i].args, commands[i].summary);
    fprintf(f, "\noptions:\n");
    option_lines(f, ALL);
    fprintf(f, "  %-24s %s\n", "--version", "print the version and exit");
    fprintf(f, "\nenvironment:\n"
               "  PYHEAP_DEBUG_DIRS        debug roots, as --debug-dir\n"
               "  DEBUGINFOD_URLS          debuginfod servers to ask for the interpreter's DWARF\n"
               "  DEBUGINFOD_CACHE_PATH    where debuginfod downloads are kept\n"
               "  PYHEAP_CACHE_MB          bound of the memory-read cache in MiB (default 8)\n"
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

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "pyheap: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, " (see pyheap --help)\n");
    return PH_ERR_USAGE;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return false;
    *out = v;
    return true;
}

static int apply_value(struct cli *cli, const struct opt_def *o, const char *v)
{
    uint64_t n;
    switch (o->id) {
    case OPT_DEBUG_FILE: cli->source.layout.debug_file = v; break;
    case OPT_DEBUG_DIR: cli->source.layout.debug_dirs = v; break;
    case OPT_LAYOUT_FROM:
        if (strcmp(v, "dwarf") == 0) {
            cli->source.layout.no_debug_offsets = cli->source.layout.no_table = true;
        } else if (strcmp(v, "debug-offsets") == 0) {
            cli->source.layout.no_dwarf = cli->source.layout.no_table = true;
        } else if (strcmp(v, "table") == 0) {
            cli->source.layout.no_dwarf = cli->source.layout.no_debug_offsets = true;
        } else {
            return usage_error("--layout-from takes dwarf, debug-offsets or table, not '%s'%s", v, "");
        }
        break;
    case OPT_ROWS:
        if (strcmp(v, "all") == 0)
            cli->rows = -1;
        else if (parse_u64(v, &n) && n <= INT32_MAX)
            cli->rows = (long)n;
        else
            return usage_error("--rows takes a number or 'all', not '%s'%s", v, "");
        break;
    case OPT_BY:
        if ((cli->by = ph_relation_parse(v)) < 0)
            return usage_error("--by takes clodo, type, size, rcs, via, module or id, not '%s'%s", v, "");
        break;
    case OPT_ROW:
    case OPT_COUNT:
        if (!parse_u64(v, &n) || n > INT32_MAX)
            return usage_error("--%s takes a number, not '%s'", o->name, v);
        *(o->id == OPT_ROW ? &cli->sel.row : &cli->count) = (long)n;
        break;
    case OPT_MIN_SIZE:
    case OPT_MAX_SIZE:
        if (!parse_u64(v, o->id == OPT_MIN_SIZE ? &cli->sel.min_size : &cli->sel.max_size))
            return usage_error("--%s takes a number of bytes, not '%s'", o->name, v);
        break;
    case OPT_SORT:
        if (strcmp(v, "retained") == 0)
            cli->sort_retained = cli->retained = true;
        else if (strcmp(v, "size") == 0)
            cli->sort_retained = false;
        else
            return usage_error("--sort takes size or retained, not '%s'%s", v, "");
        break;
    case OPT_THRESHOLD: {
        char *end;
        errno = 0;
        double pct = strtod(v, &end);
        if (errno || end == v || *end || !(pct >= 0 && pct <= 100))
            return usage_error("--threshold takes a percentage from 0 to 100, not '%s'%s", v, "");
        cli->threshold = pct;
        break;
    }
    case OPT_FORMAT:
        if (strcmp(v, "text") == 0)
            cli->format = FORMAT_TEXT;
        else if (strcmp(v, "collapsed") == 0)
            cli->format = FORMAT_COLLAPSED;
        else if (strcmp(v, "heapsnapshot") == 0)
            cli->format = FORMAT_HEAPSNAPSHOT;
        else
            return usage_error("--format takes text, collapsed or heapsnapshot, not '%s'%s", v, "");
        break;
    case OPT_OUTPUT: cli->output = v; break;
    case OPT_KIND: cli->sel.kind = v; break;
    case OPT_MODULE: cli->sel.module = v; break;
    default: break;
    }
    return 0;
}

static void apply_flag(struct cli *cli, enum opt_id id)
{
    switch (id) {
    case OPT_JSON: cli->json = true; break;
    case OPT_LAYOUT: cli->layout = true; break;
    case OPT_NO_DEBUGINFOD: cli->source.layout.no_debuginfod = true; break;
    case OPT_NO_FREEZE: cli->source.no_freeze = true; break;
    case OPT_COPY: cli->source.copy = true; break;
    case OPT_ALL: cli->all = true; break;
    case OPT_REFERRERS: cli->sel.referrers = true; break;
    case OPT_REFERENTS: cli->sel.referents = true; break;
    case OPT_RETAINED: cli->retained = true; break;
    default: break;
    }
}

static const struct opt_def *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

/* A one-letter option ("-n 5", "-o out.svg"): the long option with that letter. */
static int parse_letter(struct cli *cli, int argc, char **argv, int *i)
{
    const struct opt_def *o = NULL;
    for (size_t k = 0; k < NOPTIONS && !o; k++)
        if (options[k].letter == argv[*i][1] && (options[k].cmds & cli->command->id))
            o = &options[k];
    if (!o)
        return usage_error("'%s' is not an option of '%s'", argv[*i], cli->command->name);
    if (!o->arg) {
        apply_flag(cli, o->id);
        return 0;
    }
    if (*i + 1 >= argc)
        return usage_error("%s needs a value (%s)", argv[*i], o->arg);
    return apply_value(cli, o, argv[++*i]);
}

static int parse_pid(struct cli *cli, const char *s)
{
    if (cli->nsources >= CLI_MAX_SOURCES)
        return usage_error("unexpected argument '%s'%s", s, "");
    cli->sources[cli->nsources++] = s;
    return 0;
}

static int parse_option(struct cli *cli, int argc, char **argv, int *i, bool *done)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct opt_def *o = find_option(arg, len);
    if (!o || !(o->cmds & cli->command->id))
        return usage_error("'%s' is not an option of '%s'", argv[*i], cli->command->name);
    if (o->id == OPT_HELP) {
        cli_command_help(stdout, cli->command);
        *done = true;
        return 0;
    }
    if (!o->arg) {
        if (eq)
            return usage_error("--%s takes no value%s", o->name, "");
        apply_flag(cli, o->id);
        return 0;
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
        if (*i + 1 >= argc)
            return usage_error("--%s needs a value (%s)", o->name, o->arg);
        v = argv[++*i];
    }
    return apply_value(cli, o, v);
}

int cli_parse(struct cli *cli, int argc, char **argv, bool *done)
{
    *done = false;
    for (int i = 0; i < argc; i++) {
        int rc;
        if (strcmp(argv[i], "-h") == 0) {
            cli_command_help(stdout, cli->command);
            *done = true;
            return 0;
        }
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2])
            rc = parse_option(cli, argc, argv, &i, done);
        else if (argv[i][0] == '-' && argv[i][1] && argv[i][1] != '-' && !argv[i][2])
            rc = parse_letter(cli, argc, argv, &i);
        else
            rc = parse_pid(cli, argv[i]);
        if (rc || *done)
            return rc;
    }
    if (cli->nsources != 1)
        return usage_error(cli->nsources ? "'%s' takes one process id or file%s"
                                         : "'%s' needs a process id%s", cli->command->name, "");
    if (cli->sel.referrers && cli->sel.referents)
        return usage_error("choose one of --referrers and --referents%s%s", "", "");
    return 0;
}
