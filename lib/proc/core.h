/*
 * core.h: a process as an ELF core file describes it (gdb's gcore, or the kernel's dump).
 *
 * The core gives the process's memory (PT_LOAD segments), the files it had mapped (NT_FILE),
 * its pid and name (NT_PRPSINFO) and its entry point (NT_AUXV, which names the executable's
 * mapping). From these it fills the same struct ph_proc a live process gives, so the interpreter
 * is found and its layout read exactly as for a live one, and a memory backend that reads what
 * the core holds, and for file-backed pages the core left out (code and constants a dump skips
 * by default), the file itself, at the offset the core records. Nothing of the process is used
 * or needed: it may be long gone, or on another host (then its files must be at the same paths).
 *
 * The core file is hostile input: every count, offset and length in it is checked against the
 * file's size before use.
 */
#ifndef PH_CORE_H
#define PH_CORE_H

#include "lib/error.h"
#include "lib/proc/mem.h"
#include "lib/proc/proc.h"

struct ph_core;

/* Open and parse a core file (x86-64, 64-bit little-endian ELF of type ET_CORE).
 * PH_ERR_CORRUPT_FILE for anything else or for a malformed core, PH_ERR_IO when unreadable. */
ph_status ph_core_open(const char *path, struct ph_core **out, struct ph_error *err);
/* The process the core describes: pid, name, executable, maps (inode 0: paths identify files).
 * proc->live is false, so its files are opened by path. The caller closes it (ph_proc_close). */
ph_status ph_core_proc(const struct ph_core *c, struct ph_proc *out, struct ph_error *err);
/* A memory backend over the core; the core must outlive it. */
void ph_core_backend(struct ph_core *c, struct ph_mem_backend *out);
/* When the core was written (its file's modification time, seconds since the epoch). */
long long ph_core_time(const struct ph_core *c);
void ph_core_close(struct ph_core *c);

#endif
