/*
 * freeze.h: stop every thread of the target with PTRACE_SEIZE + PTRACE_INTERRUPT, and let them
 * go again with PTRACE_DETACH.
 *
 * No signal is sent to the target (SEIZE, not ATTACH), so a tracer that dies leaves the target
 * running: the kernel detaches tracees of an exiting tracer. Threads created while freezing are
 * caught by re-listing /proc/PID/task until no new thread appears; threads that exit meanwhile
 * are skipped. ph_thaw detaches every thread that was seized, whatever happened before.
 */
#ifndef PH_FREEZE_H
#define PH_FREEZE_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/error.h"

struct ph_freeze;

/* `cancel` (may be NULL) is polled while waiting; when it becomes non-zero the freeze is undone
 * and PH_ERR_INTERRUPTED returned. Errors: PH_ERR_NO_PROCESS, PH_ERR_PERMISSION (with a hint:
 * root, CAP_SYS_PTRACE, /proc/sys/kernel/yama/ptrace_scope), PH_ERR_ALREADY_TRACED (naming the
 * tracer pid), PH_ERR_TARGET_EXITED. On failure nothing stays seized. */
ph_status ph_freeze(pid_t pid, volatile sig_atomic_t *cancel, struct ph_freeze **out,
                    struct ph_error *err);

/* Detach every seized thread and free. Safe on NULL. Returns the number of threads released. */
size_t ph_thaw(struct ph_freeze *fr);

size_t ph_freeze_count(const struct ph_freeze *fr);
const pid_t *ph_freeze_tids(const struct ph_freeze *fr);

#endif
