/*
 * error.c: formatting of struct ph_error and the names of each status.
 * The tables below are the single source for the exit-code list in --help and the man page.
 */
#include "lib/error.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *describe;
} status_text[PH_STATUS_COUNT] = {
    [PH_OK] = {"ok", "success"},
    [PH_ERR_INTERNAL] = {"internal", "internal error (a bug in pyheap) or out of memory"},
    [PH_ERR_USAGE] = {"usage", "bad command line"},
    [PH_ERR_NO_PROCESS] = {"no-process", "no such process"},
    [PH_ERR_PERMISSION] = {"permission", "permission denied (needs root, CAP_SYS_PTRACE or ptrace_scope 0)"},
    [PH_ERR_NOT_PYTHON] = {"not-python", "the process is not running CPython"},
    [PH_ERR_UNSUPPORTED] = {"unsupported", "unsupported Python version or build"},
    [PH_ERR_ALREADY_TRACED] = {"already-traced", "the process is already traced (gdb, strace)"},
    [PH_ERR_TARGET_EXITED] = {"target-exited", "the process exited while pyheap was reading it"},
    [PH_ERR_NO_LAYOUT] = {"no-layout", "no source of interpreter layout (debug info, tables) fits"},
    [PH_ERR_INCONSISTENT] = {"inconsistent", "the heap was changing or corrupt; no consistent view"},
    [PH_ERR_CORRUPT_FILE] = {"corrupt-file", "a snapshot or debug file is corrupt, truncated or newer"},
    [PH_ERR_IO] = {"io", "reading or writing a local file failed"},
    [PH_ERR_INTERRUPTED] = {"interrupted", "interrupted by a signal; the target was released"},
};

ph_status ph_fail(struct ph_error *err, ph_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

ph_status ph_wrap(struct ph_error *err, const char *fmt, ...)
{
    if (!err)
        return PH_ERR_INTERNAL;
    char prefix[PH_ERROR_MSG_MAX];
    char old[PH_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    /* prefix + ": " + old, cut to fit: the start of a message carries the most context. The
     * separator is this function's: one a prefix brings with it (": ") is dropped, so that
     * nested wraps never read "a: : b". */
    size_t n = strnlen(prefix, sizeof err->msg - 1);
    while (n > 0 && (prefix[n - 1] == ':' || prefix[n - 1] == ' '))
        n--;
    memcpy(err->msg, prefix, n);
    if (old[0] && n + 2 < sizeof err->msg) {
        memcpy(err->msg + n, ": ", 2);
        n += 2;
    }
    size_t room = sizeof err->msg - 1 - n;
    size_t m = strnlen(old, room);
    memcpy(err->msg + n, old, m);
    err->msg[n + m] = '\0';
    return err->code;
}

const char *ph_status_name(ph_status code)
{
    if ((int)code < 0 || code >= PH_STATUS_COUNT)
        return "unknown";
    return status_text[code].name;
}

const char *ph_status_describe(ph_status code)
{
    if ((int)code < 0 || code >= PH_STATUS_COUNT)
        return "unknown status";
    return status_text[code].describe;
}

void ph_error_clear(struct ph_error *err)
{
    if (err) {
        err->code = PH_OK;
        err->msg[0] = '\0';
    }
}
