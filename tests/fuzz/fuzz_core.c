/*
 * fuzz_core.c: libFuzzer target for the core-file reader (lib/proc/core.c): parsing the ELF
 * header, program headers and notes, building the process's maps, and reading memory through
 * the backend (segments, absent pages, file mappings). Built and run by `make fuzz`; seeds are
 * small real cores (tests/fuzz/seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/proc/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("core", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        struct ph_core *c;
        struct ph_error err = {0};
        if (ph_core_open(path, &c, &err) == PH_OK) {
            struct ph_proc proc;
            if (ph_core_proc(c, &proc, &err) == PH_OK) {
                struct ph_mem_backend b;
                ph_core_backend(c, &b);
                uint8_t buf[256];
                for (size_t i = 0; i < proc.maps.n && i < 32; i++) {
                    b.read(b.ctx, proc.maps.v[i].start, buf, sizeof buf);
                    b.read(b.ctx, proc.maps.v[i].end - 8, buf, sizeof buf);
                }
                ph_proc_close(&proc);
            }
            ph_core_close(c);
        }
    }
    close(fd);
    return 0;
}
