/*
 * bigmem.c: see bigmem.h. The prefaulter is a queue of ranges to populate, served by one thread;
 * its mutex guards the queue and `busy` (the mapping being populated). Requests name a mapping
 * by its base address, not by its struct (callers copy structs around): moving or freeing a
 * mapping first drops its requests and waits until it is not busy.
 */
#include "lib/bigmem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { PF_QUEUE = 64 };

struct pf_request {
    uint8_t *base;
    size_t from, to; /* populate [from, to); or unmap [base, base + to) when `unmap` */
    bool unmap;
};

struct ph_prefaulter {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;                /* work queued, or the busy array released */
    struct pf_request q[PF_QUEUE];    /* ring: head .. head + n */
    size_t head, n;
    const uint8_t *busy;
    bool stop;
};

static void *prefault_run(void *arg)
{
    struct ph_prefaulter *pf = arg;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (!pf->n && !pf->stop)
            pthread_cond_wait(&pf->cv, &pf->mu);
        if (!pf->n)
            break; /* stopped, and nothing left to unmap */
        struct pf_request r = pf->q[pf->head];
        pf->head = (pf->head + 1) % PF_QUEUE;
        pf->n--;
        if (pf->stop && !r.unmap)
            continue; /* stopping: populating is no longer of use */
        pf->busy = r.base;
        pthread_mutex_unlock(&pf->mu);
        if (r.unmap)
            munmap(r.base, r.to);
        else
            madvise(r.base + r.from, r.to - r.from, MADV_POPULATE_WRITE);
        pthread_mutex_lock(&pf->mu);
        pf->busy = NULL;
        pthread_cond_broadcast(&pf->cv);
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

struct ph_prefaulter *ph_prefaulter_start(void)
{
    struct ph_prefaulter *pf = calloc(1, sizeof *pf);
    if (!pf)
        return NULL;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    if (pthread_create(&pf->thread, NULL, prefault_run, pf) != 0) {
        pthread_mutex_destroy(&pf->mu);
        pthread_cond_destroy(&pf->cv);
        free(pf);
        return NULL;
    }
    return pf;
}

void ph_prefaulter_stop(struct ph_prefaulter *pf)
{
    if (!pf)
        return;
    pthread_mutex_lock(&pf->mu);
    pf->stop = true;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    pthread_join(pf->thread, NULL);
    pthread_mutex_destroy(&pf->mu);
    pthread_cond_destroy(&pf->cv);
    free(pf);
}

/* Before the mapping at base moves or goes: its requests are dropped and the thread is not
 * inside it. Returns with the mutex held. */
static void prefault_quiesce(struct ph_prefaulter *pf, const void *base)
{
    pthread_mutex_lock(&pf->mu);
    size_t kept = 0;
    for (size_t i = 0; i < pf->n; i++) {
        struct pf_request r = pf->q[(pf->head + i) % PF_QUEUE];
        if (r.base != base)
            pf->q[(pf->head + kept++) % PF_QUEUE] = r;
    }
    pf->n = kept;
    while (pf->busy == base)
        pthread_cond_wait(&pf->cv, &pf->mu);
}

/* Populate [from, to) of m: by the prefaulter when it has room in its queue, else here. */
static void populate(struct ph_bigmem *m, size_t from, size_t to)
{
    struct ph_prefaulter *pf = m->pf;
    if (pf) {
        pthread_mutex_lock(&pf->mu);
        bool queued = pf->n < PF_QUEUE;
        if (queued) {
            pf->q[(pf->head + pf->n++) % PF_QUEUE] = (struct pf_request){m->base, from, to, false};
            pthread_cond_signal(&pf->cv);
        }
        pthread_mutex_unlock(&pf->mu);
        if (queued)
            return;
    }
    madvise((uint8_t *)m->base + from, to - from, MADV_POPULATE_WRITE);
}

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
    if (m->pf && m->base)
        prefault_quiesce(m->pf, m->base);
    void *p = m->base ? mremap(m->base, m->mapped, want, MREMAP_MAYMOVE)
                      : mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->pf && m->base)
        pthread_mutex_unlock(&m->pf->mu);
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
    /* Populate ahead by a sixteenth, between 64 KiB and 1 MiB: few calls, little unused (a
     * dozen arrays grow with the heap: an eighth ahead was 7 bytes per object at 1M objects). */
    size_t ahead = (m->ready > bytes ? m->ready : bytes) / 16;
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
        populate(m, from, target);
    m->ready = target;
    return true;
}

void ph_prefaulter_unmap(struct ph_prefaulter *pf, void *base, size_t len)
{
    if (pf) {
        pthread_mutex_lock(&pf->mu);
        bool queued = pf->n < PF_QUEUE;
        if (queued) {
            pf->q[(pf->head + pf->n++) % PF_QUEUE] = (struct pf_request){base, 0, len, true};
            pthread_cond_signal(&pf->cv);
        }
        pthread_mutex_unlock(&pf->mu);
        if (queued)
            return;
    }
    munmap(base, len);
}

void ph_bigmem_free(struct ph_bigmem *m)
{
    if (m->pf && m->base)
        prefault_quiesce(m->pf, m->base);
    if (m->base)
        munmap(m->base, m->mapped);
    if (m->pf && m->base)
        pthread_mutex_unlock(&m->pf->mu);
    memset(m, 0, sizeof *m);
}
