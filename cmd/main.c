/*
 * main.c: entry point. Finds the sub-command, installs the signal handlers that turn
 * SIGINT/SIGTERM/SIGHUP/SIGPIPE into a cancel flag (the engine polls it, thaws the target and
 * returns), and runs the command. The flag is the only global in pyheap, and it lives here
 * because signal handlers can reach nothing else.
 */
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cli.h"
#include "lib/escape.h"
#include "lib/version.h"

static volatile sig_atomic_t cancel_flag;

static void on_signal(int sig)
{
    (void)sig;
    cancel_flag = 1;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking waitpid must return EINTR and see the flag */
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_short_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        cli_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("pyheap %s\n", PYHEAP_VERSION);
        return 0;
    }
    struct cli cli;
    memset(&cli, 0, sizeof cli);
    cli.rows = 10;
    cli.count = 1;
    cli.threshold = 10.0;
    cli.sel = ph_selection_none();
    cli.command = cli_find_command(argv[1]);
    if (!cli.command) {
        char what[64];
        ph_escape(argv[1], strlen(argv[1]), what, sizeof what);
        int pid;
        if (ph_source_is_pid(argv[1], &pid))
            fprintf(stderr, "pyheap: '%s' is not a command; to look at process %d: pyheap attach %d\n",
                    what, pid, pid);
        else
            fprintf(stderr, "pyheap: unknown command '%s' (see pyheap --help)\n", what);
        return 2;
    }
    cli.source.layout.debug_dirs = getenv("PYHEAP_DEBUG_DIRS");
    const char *cache_mb = getenv("PYHEAP_CACHE_MB");
    if (cache_mb && atol(cache_mb) > 0)
        cli.source.cache_bytes = (size_t)atol(cache_mb) << 20;
    const char *copy_mb = getenv("PYHEAP_COPY_MAX_MB");
    if (copy_mb && atol(copy_mb) > 0)
        cli.source.copy_max_bytes = (uint64_t)atol(copy_mb) << 20;
    cli.source.will_walk = cli.command->id != CMD_INFO;
    cli.source.test_skew_layout = getenv("PYHEAP_TEST_SKEW_LAYOUT") != NULL;
    bool done;
    int rc = cli_parse(&cli, argc - 2, argv + 2, &done);
    if (rc || done)
        return rc;
    /* A fixed mmap threshold: large arrays (graph, string table, read cache) then live in their
     * own mappings, grow by mremap without copying and go back to the system when freed. With
     * glibc's default, freeing the debug-info buffers raises the threshold to 32 MiB and the
     * walk's arrays fragment the brk heap (measured: 40 MiB resident but unused at the peak). */
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    install_signal_handlers();
    cli.cancel = &cancel_flag;
    cli.source.cancel = &cancel_flag;
    return cli.command->run(&cli);
}
