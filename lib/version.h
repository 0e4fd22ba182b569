/*
 * version.h: pyheap's own version, written into snapshot files and printed by --version.
 */
#ifndef PH_VERSION_H
#define PH_VERSION_H

#ifndef PYHEAP_VERSION
#define PYHEAP_VERSION "0.2.0"
#endif

#endif
