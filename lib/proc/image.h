/*
 * image.h: a copy of a frozen target's writable memory, so it can run again before the walk.
 *
 * The heap walk takes about a second per few million objects; with a live backend the target
 * stays stopped all that time. ph_image_capture copies, while the target is frozen, every
 * readable and writable mapping (anonymous ones only where pages are present or swapped: the
 * rest reads as zeros), in a few large process_vm_readv calls. The target can then be thawed
 * and walked from the copy. Read-only mappings (code, constants, type names) are not copied: the
 * image backend reads them from the live process, where they do not change.
 *
 * Memory: the copy is as large as the target's resident writable memory. ph_image_capture
 * refuses (PH_ERR_INTERNAL, saying how much) when that exceeds the bound it is given.
 */
#ifndef PH_IMAGE_H
#define PH_IMAGE_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/bigmem.h"
#include "lib/error.h"
#include "lib/proc/maps.h"
#include "lib/proc/mem.h"

struct ph_image;

struct ph_image_stats {
    uint64_t mappings;      /* writable mappings copied */
    uint64_t bytes;         /* bytes copied */
    uint64_t absent_bytes;  /* anonymous pages never touched: zeros, not copied */
    uint64_t syscalls;      /* process_vm_readv and pagemap reads */
};

/* Before the freeze: plan a copy of pid's writable memory as `maps` (borrowed) describes it now,
 * and allocate and fault in room for it with some headroom, so the freeze does not pay for our
 * page faults. At most max_bytes, else PH_ERR_INTERNAL saying how much would be needed. *needed
 * (when not NULL) is set to the bytes the copy needs as soon as they are known, so a caller can
 * tell "too big" from other failures. */
ph_status ph_image_reserve(pid_t pid, const struct ph_maps *maps, uint64_t max_bytes,
                           struct ph_image **out, uint64_t *needed, struct ph_error *err);
/* ph_image_reserve in two steps: the plan and the room (address space), then faulting the room
 * in, which any number of threads may do at once (each takes the next few MiB), so a second
 * thread can help the first (about 0.3 s per GiB on its own). */
ph_status ph_image_plan(pid_t pid, const struct ph_maps *maps, uint64_t max_bytes,
                        struct ph_image **out, uint64_t *needed, struct ph_error *err);
void ph_image_populate(struct ph_image *img);
/* While frozen: copy the writable memory of pid as `maps` (read while frozen) describes it,
 * into img (grown if the target grew, at most to max_bytes; *needed as for ph_image_reserve).
 * PH_ERR_TARGET_EXITED if it is gone; can be repeated. */
ph_status ph_image_capture(struct ph_image *img, pid_t pid, const struct ph_maps *maps,
                           uint64_t max_bytes, uint64_t *needed, struct ph_error *err);
struct ph_image_stats ph_image_get_stats(const struct ph_image *img);
/* The memory this process may still take: MemAvailable (/proc/meminfo), or less when the
 * memory cgroup it runs in (a container's limit, cgroup v2) has less room left. UINT64_MAX when
 * neither can be read. */
uint64_t ph_image_available(void);
/* Three quarters of ph_image_available(): the bound of an explicit --copy. */
uint64_t ph_image_default_limit(void);
void ph_image_free(struct ph_image *img);
/* From now on the copy's memory is unmapped by pf's thread when img is freed (bigmem.h). */
void ph_image_unmap_by(struct ph_image *img, struct ph_prefaulter *pf);

/* A backend reading img where it holds the address and `live` elsewhere. The backend owns both:
 * its close frees the image and closes live. */
void ph_image_backend(struct ph_image *img, struct ph_mem_backend live, struct ph_mem_backend *out);

#endif
