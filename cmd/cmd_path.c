/*
 * cmd_path.c: `pyheap path PID`: shortest paths from the roots (placeholder until the path
 * view lands).
 */
#include <stdio.h>

#include "cmd/cli.h"

int cmd_path(struct cli *cli)
{
    (void)cli;
    fprintf(stderr, "pyheap: path is not implemented yet\n");
    return PH_ERR_USAGE;
}
