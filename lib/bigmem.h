/*
 * bigmem.h: memory for the walk's large arrays (the graph's columns and address index, the
 * string table, the read cache).
 *
 * Each array is an anonymous mapping that grows in place or moves without copying (mremap), and
 * whose pages are made present in bulk (MADV_POPULATE_WRITE, Linux 5.14+) a step ahead of use
 * instead of one page fault at a time. Why: on a heap of millions of objects pyheap touches a few
 * hundred MiB, and page faults were a third of its time. Measured on a 2-core VM: touching 256 MiB
 * page by page took 0.75 s, populating it with one call per 4 MiB 0.15 s. On older kernels the
 * madvise fails and pages fault in on first use, as with malloc: slower, never wrong.
 *
 * With a prefaulter (pf, optional) a second thread populates those pages instead, while the
 * caller goes on: on a large heap the walk's own page faults were a sixth of its time, and the
 * second core is idle then. Pages it has not reached yet fault in on first use, as without.
 *
 * Invariants: ready <= mapped; [base, base + ready) is usable; base may move on growth, so
 * callers reload it after every call that can grow. A zeroed struct is a valid empty array.
 * Only the owning thread calls these functions; a prefaulter touches an array only while it is
 * neither moved nor freed (both wait for it).
 */
#ifndef PH_BIGMEM_H
#define PH_BIGMEM_H

#include <stdbool.h>
#include <stddef.h>

struct ph_prefaulter;

struct ph_bigmem {
    void *base;     /* NULL until the first growth */
    size_t mapped;  /* bytes of address space held (page multiple) */
    size_t ready;   /* bytes usable, populated (or being populated by pf) a step ahead */
    struct ph_prefaulter *pf; /* NULL: populated by the caller's thread */
};

/* Make at least `bytes` usable, populating a step more than asked (an eighth, 64 KiB to 1 MiB)
 * so that growing one element at a time costs one system call per step, not one fault per
 * page. False when out of memory (the array is unchanged). */
bool ph_bigmem_ensure(struct ph_bigmem *m, size_t bytes);
/* Hold address space for `bytes` without populating it, so later growth up to there does not
 * move the array. */
bool ph_bigmem_reserve(struct ph_bigmem *m, size_t bytes);
void ph_bigmem_free(struct ph_bigmem *m);

/* A thread that populates the pages of arrays ahead of their use (see above); NULL when no
 * thread can be started (the arrays then populate as without). Stop it after freeing every array
 * that uses it. */
struct ph_prefaulter *ph_prefaulter_start(void);
/* Stopping unmaps what it was given to unmap first. */
void ph_prefaulter_stop(struct ph_prefaulter *pf);
/* Give a mapping (of this process, no longer used) to the prefaulter's thread to unmap, so the
 * caller does not wait for the kernel to free it (a copy of the target: 0.1 s per GiB); pf NULL
 * or busy: unmapped here. */
void ph_prefaulter_unmap(struct ph_prefaulter *pf, void *base, size_t len);

#endif
