# pyheap: one Makefile, no autotools.
#   make            build/pyheap (optimised: -O2, link-time optimisation; -g)
#   make check      include layering, ASan+UBSan build, Check unit tests, integration tests
#   make demo       start the example leaky service and attach to it
#   make bench      the benchmark: 1M, 5M and 20M objects (wall, stop, RSS per object, the
#                   physical limit); make bench-large: 1M and 50M when the memory allows;
#                   BENCH_PYTHON=PATH: the target's interpreter (default Debian's python3.11)
#   make fuzz       fuzz the snapshot reader (clang's libFuzzer, ASan+UBSan), FUZZ_SECONDS long
#   make stress     attach again and again to targets that allocate hard, every interpreter
#                   (ATTACHES=K per mode, default 1000; THREADS=N, default 4; INTERPS=3.12,sid)
#   make deps       install missing Debian/Ubuntu packages (apt-get, as root or via sudo)
#   make install PREFIX=/usr/local DESTDIR=
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PYTHON ?= /usr/bin/python3
PKGS := libelf libdw zlib libzstd
# libdebuginfod: its header only; the library is loaded when a server is asked (debugfind.c).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) libdebuginfod 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wvla -Wno-missing-field-initializers
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -I. $(WARN) $(PKG_CFLAGS)
CFLAGS ?= -O2 -g -flto=auto
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

ENGINE_SRC := $(wildcard lib/*.c lib/*/*.c) $(wildcard symbols/*.c) $(wildcard symbols/tables/*.c)
CMD_SRC := $(wildcard cmd/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

OPT_OBJ := $(patsubst %.c,build/opt/%.o,$(ENGINE_SRC) $(CMD_SRC))
SAN_ENGINE_OBJ := $(patsubst %.c,build/san/%.o,$(ENGINE_SRC))
SAN_CMD_OBJ := $(patsubst %.c,build/san/%.o,$(CMD_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,build/san/unit/%,$(UNIT_SRC))

.PHONY: all check unit integration layers demo bench bench-large stress fuzz tables deps install clean sid-root
all: build/pyheap

build/pyheap: $(OPT_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

build/opt/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CHECK_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

build/san/pyheap: $(SAN_ENGINE_OBJ) $(SAN_CMD_OBJ)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

# The unit tests' objects are kept (not deleted as intermediates), so a second `make check`
# relinks nothing that did not change.
.SECONDARY: $(patsubst tests/unit/%.c,build/san/tests/unit/%.o,$(UNIT_SRC))

build/san/unit/%: build/san/tests/unit/%.o $(SAN_ENGINE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# The generated layout tables (symbols/tables/), from the DWARF of real builds. Adding a CPython
# version takes more than this: the checklist is symbols/NEW_VERSION.md.
tables:
	sh tests/tools/gen-tables.sh

# layoutgen: the table generator (tests/tools/gen-tables.sh). It links only the DWARF reader, so
# it builds even when symbols/tables/ is stale.
LAYOUTGEN_OBJ := build/opt/tests/tools/layoutgen.o build/opt/symbols/dwarf.o build/opt/symbols/layout.o build/opt/lib/error.o
build/layoutgen: $(LAYOUTGEN_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

-include $(shell find build -name '*.d' 2>/dev/null)

# Sanitizer settings for every test run: any report fails the test.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

# deps first, then a fresh make: pkg-config flags must be read after the packages exist.
check: deps
	@$(MAKE) --no-print-directory build/san/pyheap build/pyheap $(UNIT_BIN)
	@$(MAKE) --no-print-directory layers unit integration

# No folder includes a header of a stage it must not depend on (tests/tools/check-layers.py).
layers:
	@$(PYTHON) tests/tools/check-layers.py

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do echo "== $$t"; CK_FORK=yes $(SAN_ENV) $$t || fail=1; done; \
	test $$fail = 0 || { echo "unit tests FAILED"; exit 1; }

integration: build/san/pyheap build/pyheap
	$(SAN_ENV) PYHEAP=build/san/pyheap PYHEAP_OPT=build/pyheap $(PYTHON) tests/integration/run.py

demo: deps
	@$(MAKE) --no-print-directory build/pyheap
	$(PYTHON) tests/demo.py build/pyheap

bench: build/pyheap
	$(PYTHON) tests/bench.py build/pyheap $(if $(BENCH_PYTHON),python=$(BENCH_PYTHON))

# 50 million objects, when the memory allows (about 14 GiB: the target, its copy, the graph),
# beside 1 million for the linearity figure.
bench-large: build/pyheap
	$(PYTHON) tests/bench.py build/pyheap sizes=1,50 snapshot=0 $(if $(BENCH_PYTHON),python=$(BENCH_PYTHON))

# The file readers under libFuzzer (clang, ASan+UBSan), each for FUZZ_SECONDS, on seed corpora
# of real files: snapshots (the reader, then every view on what it accepts) and core files.
FUZZ_SECONDS ?= 120
FUZZ_LIB := lib/addrmap.c lib/bigmem.c lib/error.c lib/escape.c lib/parallel.c
FUZZ_SNAPSHOT_SRC := tests/fuzz/fuzz_snapshot.c $(wildcard lib/heap/*.c) $(FUZZ_LIB)
FUZZ_CORE_SRC := tests/fuzz/fuzz_core.c lib/proc/core.c lib/proc/proc.c lib/proc/maps.c $(FUZZ_LIB)
FUZZ_CC = clang -std=c11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined \
          -fno-sanitize-recover=all
build/fuzz/fuzz_snapshot: $(FUZZ_SNAPSHOT_SRC) $(wildcard lib/*.h lib/heap/*.h)
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(FUZZ_SNAPSHOT_SRC) -lz -lzstd
build/fuzz/fuzz_core: $(FUZZ_CORE_SRC) $(wildcard lib/*.h lib/proc/*.h)
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(FUZZ_CORE_SRC)

FUZZ_RUN = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
fuzz: build/fuzz/fuzz_snapshot build/fuzz/fuzz_core build/pyheap
	$(PYTHON) tests/fuzz/seeds.py build/pyheap build/fuzz/seeds
	@mkdir -p build/fuzz/corpus-snapshot build/fuzz/corpus-core
	$(SAN_ENV) build/fuzz/fuzz_snapshot $(FUZZ_RUN) build/fuzz/corpus-snapshot build/fuzz/seeds/snapshot
	$(SAN_ENV) build/fuzz/fuzz_core $(FUZZ_RUN) build/fuzz/corpus-core build/fuzz/seeds/core

# Not part of check: failures per mode and interpreter are figures (tests/stress.py).
stress: build/pyheap
	$(PYTHON) tests/stress.py build/pyheap attaches=$(or $(ATTACHES),1000) threads=$(or $(THREADS),4) \
		$(if $(INTERPS),interps=$(INTERPS))

deps:
	@sh tests/deps.sh

sid-root: deps
	@sh tests/sid-root.sh

install: build/pyheap
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 build/pyheap $(DESTDIR)$(PREFIX)/bin/pyheap
	install -m 644 man/pyheap.1 $(DESTDIR)$(PREFIX)/share/man/man1/pyheap.1

clean:
	rm -rf build
