/*
 * bigmem.c: see bigmem.h.
 */
#include "lib/bigmem.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define AHEAD_MIN ((size_t)64 << 10)
#define AHEAD_MAX ((size_t)1 << 20)

static size_t page_round(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) / page * page;
}

/* Map (or remap) so that `bytes` fit; the contents are kept. */
static bool map_at_least(struct ph_bigmem *m, size_t bytes)
{
    if (bytes <= m->mapped)
        return true;
    size_t want = page_round(bytes);
    if (want < m->mapped * 2 && m->mapped * 2 > m->mapped)
        want = m->mapped * 2; /* doubling keeps remaps logarithmic */
    void *p = m->base ? mremap(m->base, m->mapped, want, MREMAP_MAYMOVE)
                      : mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    m->base = p;
    m->mapped = want;
    return true;
}

bool ph_bigmem_reserve(struct ph_bigmem *m, size_t bytes)
{
    return map_at_least(m, bytes);
}

bool ph_bigmem_ensure(struct ph_bigmem *m, size_t bytes)
{
    if (bytes <= m->ready)
        return true;
    /* Populate ahead by an eighth, between 64 KiB and 1 MiB: few calls, little unused. */
    size_t ahead = (m->ready > bytes ? m->ready : bytes) / 8;
    ahead = ahead < AHEAD_MIN ? AHEAD_MIN : ahead > AHEAD_MAX ? AHEAD_MAX : ahead;
    size_t target = bytes + ahead;
    if (!map_at_least(m, bytes))
        return false;
    target = page_round(target);
    if (target > m->mapped)
        target = m->mapped;
    /* ready is a page multiple (or 0) once set here; best effort: a kernel without
     * MADV_POPULATE_WRITE leaves the pages to fault in on first use. */
    size_t from = page_round(m->ready);
    if (target > from)
        madvise((uint8_t *)m->base + from, target - from, MADV_POPULATE_WRITE);
    m->ready = target;
    return true;
}

void ph_bigmem_free(struct ph_bigmem *m)
{
    if (m->base)
        munmap(m->base, m->mapped);
    memset(m, 0, sizeof *m);
}
