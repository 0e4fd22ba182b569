/*
 * layoutgen: the generator of pyheap's built-in tables, and a DWARF inspection tool.
 *
 * It links only the engine objects that read DWARF (symbols/dwarf.c, symbols/layout.c,
 * lib/error.c), never symbols/tables/, so it builds even while the tables are stale or missing.
 * Output is C source for symbols/tables/ (driven by tests/tools/gen-tables.sh) or plain text.
 *
 *   layoutgen dump FILE                       FIELD value, one a line (-1 absent); time on stderr
 *   layoutgen struct FILE NAME                every leaf member of a struct: offset size path
 *   layoutgen row SYMBOL FILE VERSION MIN MAX LABEL
 *                                             a struct py_layout_table for versions MIN..MAX
 *   layoutgen debug-offsets SYMBOL FILE MINOR LABEL
 *                                             the _Py_DebugOffsets position table of a minor
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symbols/dwarf.h"
#include "symbols/layout_sources.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_or_die(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        exit(1);
    }
    return fd;
}

static void die_err(const char *what, const struct ph_error *err)
{
    fprintf(stderr, "layoutgen: %s: %s\n", what, err->msg);
    exit(1);
}

/* "3.11.2" -> 0x030b02f0 (a final release); `top` gives the last hex of that patch instead. */
static uint32_t parse_version(const char *s, int top)
{
    unsigned maj, min, mic;
    if (sscanf(s, "%u.%u.%u", &maj, &min, &mic) != 3 || maj > 255 || min > 255 || mic > 255) {
        fprintf(stderr, "layoutgen: bad version %s (want X.Y.Z)\n", s);
        exit(2);
    }
    return (maj << 24) | (min << 16) | (mic << 8) | (top ? 0xffu : 0xf0u);
}

static void print_c_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if (*s >= 0x20 && *s < 0x7f)
            putchar(*s);
    }
    putchar('"');
}

static void read_layout(const char *path, struct py_layout *l)
{
    struct ph_error err = {0};
    int fd = open_or_die(path);
    double t0 = now();
    if (py_layout_from_dwarf_fd(fd, l, &err) != PH_OK)
        die_err(path, &err);
    fprintf(stderr, "layoutgen: %s: DWARF read in %.3f s\n", path, now() - t0);
    close(fd);
}

static int cmd_dump(const char *path)
{
    struct py_layout l;
    read_layout(path, &l);
    for (int i = 0; i < PF_COUNT; i++)
        printf("%s %lld\n", py_field_descs[i].name, (long long)l.v[i]);
    return 0;
}

static int cmd_row(char **a)
{
    struct py_layout l;
    read_layout(a[1], &l);
    printf("const struct py_layout_table %s = {\n", a[0]);
    printf("    .min_hex = 0x%08x,\n    .max_hex = 0x%08x,\n    .gen_hex = 0x%08x,\n",
           parse_version(a[3], 0), parse_version(a[4], 1), parse_version(a[2], 0));
    printf("    .generated_from = ");
    print_c_string(a[5]);
    printf(",\n    .nfields = %d,\n    .v = {\n", PF_COUNT);
    for (int i = 0; i < PF_COUNT; i++)
        printf("        [PF_%s] = %lld,\n", py_field_descs[i].name, (long long)l.v[i]);
    printf("    },\n};\n");
    return 0;
}

/* Find one struct by name in a DWARF file; the ph_dwarf and the returned fd stay open for the
 * caller to close (the DIE lives in them). */
static int find_one(const char *path, const char *name, struct ph_dwarf *d, Dwarf_Die *die)
{
    struct ph_error err = {0};
    bool found = false;
    const char *names[1] = {name};
    struct ph_dwarf_wanted w = {.names = names, .n = 1, .dies = die, .found = &found};
    int fd = open_or_die(path);
    if (ph_dwarf_open(fd, NULL, d, &err) != PH_OK ||
        ph_dwarf_find_structs(d, &w, &err) != PH_OK)
        die_err(path, &err);
    if (!found) {
        fprintf(stderr, "layoutgen: %s: no complete definition of %s\n", path, name);
        exit(1);
    }
    return fd;
}

static int print_leaf(const char *path, int64_t off, int64_t size, void *ctx)
{
    (void)ctx;
    printf("%6lld %6lld %s\n", (long long)off, (long long)size, path);
    return 0;
}

static int cmd_struct(const char *path, const char *name)
{
    struct ph_dwarf d;
    Dwarf_Die die;
    struct ph_error err = {0};
    int fd = find_one(path, name, &d, &die);
    printf("sizeof %s = %lld\n", name, (long long)ph_dwarf_type_size(&die));
    if (ph_dwarf_walk_leaves(&die, print_leaf, NULL, &err) != PH_OK)
        die_err(path, &err);
    ph_dwarf_close(&d);
    close(fd);
    return 0;
}

/* Every field of _Py_DebugOffsets is a uint64_t (cookie: char[8]); anything else means the
 * struct changed shape and the parser in symbols/debug_offsets.c must be reviewed. */
static int print_entry(const char *path, int64_t off, int64_t size, void *ctx)
{
    (void)ctx;
    if (size != 8) {
        fprintf(stderr, "layoutgen: _Py_DebugOffsets.%s is %lld bytes, not 8\n", path,
                (long long)size);
        exit(1);
    }
    printf("    {\"%s\", %lld},\n", path, (long long)off);
    return 0;
}

static int cmd_debug_offsets(char **a)
{
    struct ph_dwarf d;
    Dwarf_Die die;
    struct ph_error err = {0};
    int fd = find_one(a[1], "_Py_DebugOffsets", &d, &die);
    printf("static const struct py_debug_offsets_entry %s_entries[] = {\n", a[0]);
    if (ph_dwarf_walk_leaves(&die, print_entry, NULL, &err) != PH_OK)
        die_err(a[1], &err);
    printf("};\n\nconst struct py_debug_offsets_table %s = {\n", a[0]);
    printf("    .minor = %d,\n    .size = %lld,\n    .generated_from = ", atoi(a[2]),
           (long long)ph_dwarf_type_size(&die));
    print_c_string(a[3]);
    printf(",\n    .entries = %s_entries,\n    .n = sizeof %s_entries / sizeof %s_entries[0],\n};\n",
           a[0], a[0], a[0]);
    ph_dwarf_close(&d);
    close(fd);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: layoutgen dump FILE\n"
                    "       layoutgen struct FILE NAME\n"
                    "       layoutgen row SYMBOL FILE VERSION MIN MAX LABEL\n"
                    "       layoutgen debug-offsets SYMBOL FILE MINOR LABEL\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return cmd_dump(argv[2]);
    if (argc == 4 && strcmp(argv[1], "struct") == 0)
        return cmd_struct(argv[2], argv[3]);
    if (argc == 8 && strcmp(argv[1], "row") == 0)
        return cmd_row(argv + 2);
    if (argc == 6 && strcmp(argv[1], "debug-offsets") == 0)
        return cmd_debug_offsets(argv + 2);
    return usage();
}
