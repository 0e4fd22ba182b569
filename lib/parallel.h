/*
 * parallel.h: work split in two halves that run on both cores.
 *
 * pyheap runs on the operator's machine beside the target; two cores are what the smallest of
 * them has, and the views' passes over every object and edge split in two without locks when
 * each half writes only its own part of the output (the referrers' index by destination, a
 * partition's kinds by position). Nothing is shared but what both halves only read.
 */
#ifndef PH_PARALLEL_H
#define PH_PARALLEL_H

/* Run fn(a) on a new thread and fn(b) on this one, then wait for both. When no thread can be
 * started, both run here, one after the other: the result is the same. */
void ph_run_pair(void *(*fn)(void *), void *a, void *b);

#endif
