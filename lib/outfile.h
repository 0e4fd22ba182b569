/*
 * outfile.h: a file that appears whole or not at all.
 *
 * The data is written to an unnamed file (O_TMPFILE) in the destination's directory, flushed to
 * disk, and only then given its name (linkat, or rename over an existing file), so a reader, or
 * a later run after a crash or a SIGKILL, never sees a partial file under the name. Where the
 * file system has no O_TMPFILE, a hidden temporary name beside the destination is used and
 * renamed the same way. "-" is standard output, written as it comes.
 */
#ifndef PH_OUTFILE_H
#define PH_OUTFILE_H

#include <stdbool.h>

#include "lib/error.h"

struct ph_outfile {
    int fd;              /* write here */
    bool is_stdout, unnamed;
    char path[4096];     /* the destination */
    char temp[4096];     /* the temporary name, when not unnamed */
    char shown[512];     /* the destination, escaped, for messages */
};

/* Open for writing. PH_ERR_IO (one line, naming the file) when the directory is not writable. */
ph_status ph_outfile_open(const char *path, struct ph_outfile *out, struct ph_error *err);
/* Flush to disk and give the file its name. Closes the file whatever happens. */
ph_status ph_outfile_commit(struct ph_outfile *f, struct ph_error *err);
/* Give up: nothing is left under the name (nor any temporary file). */
void ph_outfile_abort(struct ph_outfile *f);

#endif
