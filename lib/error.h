/*
 * error.h: the one status enum of pyheap, and the error record that carries context upwards.
 *
 * Every fallible function in lib/ and symbols/ returns a ph_status and, on failure, fills a
 * struct ph_error with one human sentence (which pid, which address, which struct). Nothing in
 * the engine prints: cmd/ prints err.msg and exits with the status value itself, so the exit
 * codes documented in man/pyheap.1 are exactly this enum. Keep the numbers stable: scripts
 * depend on them.
 */
#ifndef PH_ERROR_H
#define PH_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum ph_status {
    PH_OK = 0,
    PH_ERR_INTERNAL = 1,        /* a bug in pyheap, or out of memory */
    PH_ERR_USAGE = 2,           /* bad command line */
    PH_ERR_NO_PROCESS = 3,      /* no such pid */
    PH_ERR_PERMISSION = 4,      /* ptrace / process_vm_readv refused */
    PH_ERR_NOT_PYTHON = 5,      /* no CPython interpreter in the target */
    PH_ERR_UNSUPPORTED = 6,     /* CPython, but a version or build pyheap cannot walk */
    PH_ERR_ALREADY_TRACED = 7,  /* another tracer (gdb, strace) holds the target */
    PH_ERR_TARGET_EXITED = 8,   /* the target went away while we looked at it */
    PH_ERR_NO_LAYOUT = 9,       /* no layout source could describe this interpreter */
    PH_ERR_INCONSISTENT = 10,   /* heap changing or corrupt: GC collecting, bad pointers */
    PH_ERR_CORRUPT_FILE = 11,   /* a snapshot or debug file that does not parse */
    PH_ERR_IO = 12,             /* reading or writing a local file failed */
    PH_ERR_INTERRUPTED = 13,    /* a signal asked pyheap to stop; the target was released */
    PH_STATUS_COUNT
} ph_status;

#define PH_ERROR_MSG_MAX 512

struct ph_error {
    ph_status code;
    char msg[PH_ERROR_MSG_MAX];
};

/* Record a failure and return its code, so callers can write `return ph_fail(err, ...)`.
 * err may be NULL (the message is dropped). */
ph_status ph_fail(struct ph_error *err, ph_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with more context: "reading dict at 0x..." + ": " + old msg.
 * The separator is added here (and only when there is an old message); a prefix ending in ":"
 * or spaces has them dropped, so nested wraps never read "a: : b". */
ph_status ph_wrap(struct ph_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Short stable name of a status ("no-process", "permission", ...), used in JSON output. */
const char *ph_status_name(ph_status code);

/* One-line description of what the status means, for the man page and --help. */
const char *ph_status_describe(ph_status code);

void ph_error_clear(struct ph_error *err);

#endif
