/*
 * retained_out.h: what the retained-size commands (top, suspects, dominators, flame) share:
 * the output file of -o, numbers with thousands separators, and the pictures --format writes.
 */
#ifndef PH_RETAINED_OUT_H
#define PH_RETAINED_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "cmd/cli.h"
#include "lib/heap/dominators.h"

/* Standard output when path is NULL or "-", else the file, created or truncated. */
ph_status out_open(const char *path, FILE **out, struct ph_error *err);
/* Flush and close (not standard output); PH_ERR_IO saying which file when writing failed. */
ph_status out_close(FILE *f, const char *path, struct ph_error *err);
/* "12,345,678" */
char *fmt_bytes(uint64_t v, char *buf, size_t cap);
/* share of the heap as a percentage with one decimal: "61.3" */
double share(uint64_t part, uint64_t whole);
/* --format collapsed or heapsnapshot of g into -o (or standard output), the file whole or not
 * at all (lib/outfile.h). d is not used for heapsnapshot (may be empty). */
ph_status write_picture(struct cli *cli, const struct ph_graph *g, struct ph_view_ctx *v,
                        const struct ph_dom *d, struct ph_error *err);

#endif
