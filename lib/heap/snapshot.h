/*
 * snapshot.h: a heap graph as a file, and back.
 *
 * A snapshot holds what every view needs and no more: per object its address, type, size,
 * owner and flags; the edges (CSR) with their labels; the string table; the types; the roots;
 * the short descriptions of modules and functions; and the graph's meta (target and walk
 * summary). Reading it back gives a graph equal to the one written, so every view prints the
 * same bytes from the file as from the live walk.
 *
 * The format (snapshot_format.h has the details) is a fixed header, then sections in a fixed
 * order, each cut into chunks compressed with zstd and checksummed, then an end marker. It is
 * written front to back and read front to back with no seek, so both ends can be a pipe
 * (`ssh host pyheap snapshot PID > a.pyheap`, `pyheap snapshot -o - PID | pyheap attach -`).
 *
 * The reader treats the file as hostile: every length, count, index and string is checked
 * before use, nothing is allocated beyond what the data actually present needs, and any
 * violation is PH_ERR_CORRUPT_FILE with one line naming the section and the byte offset.
 */
#ifndef PH_SNAPSHOT_H
#define PH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/heap/graph.h"

/* Write g (every object decoded) to fd, front to back. `name` says where to in messages
 * ("before.pyheap", "standard output"). PH_ERR_IO when a write fails. */
ph_status ph_snapshot_write(const struct ph_graph *g, int fd, const char *name,
                            struct ph_error *err);

struct ph_snapshot_reader;

/* Start reading a snapshot from fd (not closed by the reader): check the header and read the
 * meta section. `name` is for messages. PH_ERR_CORRUPT_FILE for anything but a snapshot this
 * pyheap can read (wrong magic, newer major version, bad checksum, truncated), PH_ERR_IO when
 * reading fails. */
ph_status ph_snapshot_open(int fd, const char *name, struct ph_snapshot_reader **out,
                           struct ph_error *err);
/* The meta the file records, and its object and edge counts (valid after open). */
const struct ph_heap_meta *ph_snapshot_meta(const struct ph_snapshot_reader *r);
void ph_snapshot_counts(const struct ph_snapshot_reader *r, uint64_t *objects, uint64_t *edges);
/* Read the rest into g (initialised here; the caller frees it, also on failure). */
ph_status ph_snapshot_read(struct ph_snapshot_reader *r, struct ph_graph *g, struct ph_error *err);
void ph_snapshot_close(struct ph_snapshot_reader *r);

/* True when buf (len bytes, len >= 8 to tell) starts like a snapshot file. */
bool ph_snapshot_magic(const void *buf, size_t len);

#endif
