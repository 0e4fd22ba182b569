/*
 * target_locate.h: the two halves of py_target_resolve (target.h) around the layout call,
 * exposed so they can be tested without a layout source.
 *
 *   py_target_locate:   ELF, bias, symbols, version, build flags, support checks.
 *   (py_layout_resolve: layout_sources.h)
 *   py_target_validate: the first thread state of the first interpreter points back at it.
 */
#ifndef PH_TARGET_LOCATE_H
#define PH_TARGET_LOCATE_H

#include "lib/error.h"
#include "lib/proc/mem.h"
#include "lib/proc/proc.h"
#include "symbols/target.h"

/* Fill everything in *out up to (not including) the layout: elf_path, elf_opened_via, build_id,
 * shared, pie, load_bias, sym[], version_hex, version_source, debug_build, free_threaded.
 * *elf_fd receives the ELF holding _PyRuntime, open read-only; the caller closes it (it is -1
 * on failure). mem may be NULL: then nothing is cross-checked against the target's memory
 * (the build-id note and _Py_DebugOffsets header as mapped). */
ph_status py_target_locate(const struct ph_proc *proc, struct ph_mem *mem, struct py_target *out,
                           int *elf_fd, struct ph_error *err);

/* Refuse what pyheap cannot walk: < 3.8, free-threaded builds. Run again after the layout
 * sources, which may refine the version and the free-threaded flag. */
ph_status py_target_check_supported(const struct py_target *t, struct ph_error *err);

/* Read _PyRuntime.interpreters.head, its threads.head and that thread state's interp; it must
 * be the interpreter. Needs RT_INTERP_HEAD, IS_THREADS_HEAD and TS_INTERP in t->layout. */
ph_status py_target_validate(const struct ph_proc *proc, struct ph_mem *mem,
                             const struct py_target *t, struct ph_error *err);

#endif
