/*
 * mem.h: reading the target's memory.
 *
 * A ph_mem is a backend (how bytes are fetched: process_vm_readv with a /proc/PID/mem fallback
 * today, a core file later) behind a bounded cache of large aligned chunks. The heap walk never
 * issues a system call per object: a miss fetches a whole chunk (clipped to the mapping that holds
 * the address), and a chunk that cannot be read whole falls back to the exact range.
 *
 * Every read is exact-or-fail: a short read is an error, never silently zero-filled.
 */
#ifndef PH_MEM_H
#define PH_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "lib/proc/maps.h"

/* A source of bytes. read() copies [addr, addr+len) into buf and returns the byte count copied
 * (short on a fault), or -errno. */
struct ph_mem_backend {
    void *ctx;
    long (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
    void (*close)(void *ctx);
    /* Optional (NULL: none): bytes the backend already holds in memory (a copy of the target).
     * The run [*lo, *hi) that holds addr and a pointer to its first byte, or NULL when addr is
     * in no such run. Reads inside a run are copied straight from it, not through the cache. */
    const unsigned char *(*span)(void *ctx, uint64_t addr, uint64_t *lo, uint64_t *hi);
};

struct ph_mem_stats {
    uint64_t reads, hits, misses, syscalls, bytes_fetched, failed_chunks;
};

struct ph_mem;

/* Backend for a live pid: process_vm_readv, or /proc/PID/mem when the syscall is ENOSYS (or
 * when PYHEAP_NO_PROCESS_VM_READV is set in the environment, for tests). */
ph_status ph_mem_backend_pid(pid_t pid, struct ph_mem_backend *out, struct ph_error *err);

/* Wrap a backend in a cache of at most cache_bytes (0 = default 8 MiB). `maps` (borrowed,
 * must outlive the ph_mem) bounds chunks to mappings and rejects unmapped addresses up front;
 * NULL means no map knowledge (every address is tried). The ph_mem owns the backend from here on:
 * ph_mem_close closes it, and so does a failing ph_mem_open. After the maps change (refresh) or
 * the target ran (thaw), call ph_mem_invalidate. */
ph_status ph_mem_open(struct ph_mem_backend backend, const struct ph_maps *maps,
                      size_t cache_bytes, struct ph_mem **out, struct ph_error *err);
void ph_mem_close(struct ph_mem *mem);

/* Exact read. PH_ERR_INCONSISTENT for an address outside readable mappings or a fault,
 * PH_ERR_TARGET_EXITED when the process is gone (ESRCH), PH_ERR_PERMISSION for EPERM. */
ph_status ph_mem_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len,
                      struct ph_error *err);

/* Convenience: one 64-bit word. */
ph_status ph_mem_u64(struct ph_mem *mem, uint64_t addr, uint64_t *out, struct ph_error *err);

/* Read a NUL-terminated string of at most max-1 bytes into buf (always terminated). */
ph_status ph_mem_cstr(struct ph_mem *mem, uint64_t addr, char *buf, size_t max,
                      struct ph_error *err);

/* Start loading the local copy of addr into the CPU's cache when it lies in a run of the
 * backend that recent reads used (a copy); else nothing. Reads nothing, cannot fault. */
void ph_mem_prefetch(const struct ph_mem *mem, uint64_t addr);
/* The local copy of [addr, addr + len) when it lies whole in such a run, else NULL: for hints
 * only (what to prefetch next), never for what the walk decides. */
const void *ph_mem_peek(const struct ph_mem *mem, uint64_t addr, size_t len);
/* Cheap pre-check used to validate pointers before reading: inside readable mappings. */
bool ph_mem_readable(const struct ph_mem *mem, uint64_t addr, size_t len);

/* Drop every cached chunk (memory may have changed after a thaw). */
void ph_mem_invalidate(struct ph_mem *mem);

struct ph_mem_stats ph_mem_get_stats(const struct ph_mem *mem);

#endif
