#!/bin/sh
# sid-root.sh: build the Debian sid root whose Pythons 3.13, 3.14 and 3.15 the integration tests
# run under chroot (and under unshare + chroot: the "container" case).
#
# The root lives outside the checkout, at ${PYHEAP_SID_ROOT:-/var/cache/pyheap/sid-root}, and is
# kept between runs. It counts as complete when, under chroot, each python3.1X starts and imports
# what the test targets use (numpy too, from 3.14), and each python3.1X-dbg is there; then this
# script does nothing.
# Otherwise it runs debootstrap (bounded by PYHEAP_SID_TIMEOUT seconds, default 900) into a temp
# directory beside it, checks the result, and renames it into place, so a half-built root is
# never left where the tests look.
#
# If the root cannot be built (not root, no network, debootstrap failure or timeout): with
# PYHEAP_REQUIRE_SID=1 (set by .ci/run) it exits 1 with the reason; otherwise it prints
# "skipping sid interpreters: <reason>" and exits 0, and the tests run without them.
set -eu

DIR=${PYHEAP_SID_ROOT:-/var/cache/pyheap/sid-root}
MIRROR=${PYHEAP_SID_MIRROR:-http://deb.debian.org/debian}
TIMEOUT=${PYHEAP_SID_TIMEOUT:-900}
VERSIONS="3.13 3.14 3.15"
INCLUDE=python3.13,python3.14,python3.15,python3.13-dbg,python3.14-dbg,python3.15-dbg,python3-numpy
# sid's numpy is built for 3.14 and later: those must import it (the ndarray decoder's test).
NUMPY_VERSIONS="3.14 3.15"
CHECK_IMPORTS="import asyncio, decimal, json, tracemalloc, sys
print('%d.%d.%d' % sys.version_info[:3])"
HERE=$(dirname "$0")

TMP=""
OLD=""

give_up() {
    if [ "${PYHEAP_REQUIRE_SID:-}" = 1 ]; then
        echo "sid-root.sh: cannot build the sid root at $DIR: $* (PYHEAP_REQUIRE_SID=1)" >&2
        exit 1
    fi
    echo "sid-root.sh: skipping sid interpreters: $*"
    exit 0
}

# Print the versions found and succeed if root $1 is complete.
root_complete() {
    [ -d "$1/usr/bin" ] || return 1
    found=""
    for v in $VERSIONS; do
        [ -e "$1/usr/bin/python$v-dbg" ] || return 1
        ver=$(chroot "$1" "/usr/bin/python$v" -c "$CHECK_IMPORTS" 2>/dev/null) || return 1
        found="$found $ver"
    done
    for v in $NUMPY_VERSIONS; do
        chroot "$1" "/usr/bin/python$v" -c "import numpy" >/dev/null 2>&1 || return 1
    done
    echo "$found"
}

# Remove a directory tree that debootstrap may have left mounts in (proc, sys): unmount what
# is beneath it first, and never cross into another file system.
remove_tree() {
    [ -n "$1" ] && [ -d "$1" ] || return 0
    awk -v d="$1/" 'substr($5, 1, length(d)) == d { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$1"
}

cleanup() {
    remove_tree "$TMP"
    remove_tree "$OLD"
}

if [ "$(id -u)" != 0 ]; then
    if [ -d "$DIR/usr/bin" ]; then
        give_up "not root: cannot chroot to check $DIR"
    fi
    give_up "not root: debootstrap and chroot need root"
fi

if versions=$(root_complete "$DIR"); then
    echo "sid-root.sh: $DIR is complete (Python$versions)"
    exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    sh "$HERE/deps.sh" || true
    command -v debootstrap >/dev/null 2>&1 || give_up "debootstrap is not installed (make deps)"
fi

parent=$(dirname "$DIR")
mkdir -p "$parent" || give_up "cannot create $parent"

# One builder at a time; a second one waits, then finds the root complete.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$parent/.sid-root.lock"
    flock -w "$TIMEOUT" 9 || give_up "another sid-root.sh holds $parent/.sid-root.lock"
    if versions=$(root_complete "$DIR"); then
        echo "sid-root.sh: $DIR is complete (Python$versions)"
        exit 0
    fi
fi

trap cleanup EXIT
trap 'exit 130' INT TERM HUP
TMP=$(mktemp -d "$DIR.tmp.XXXXXX") || give_up "cannot create a temp directory in $parent"
chmod 755 "$TMP"
log="$parent/sid-root.log"
echo "sid-root.sh: building the sid root at $DIR (debootstrap, up to $TIMEOUT s; log: $log)"
status=0
timeout --kill-after=30 "$TIMEOUT" debootstrap --variant=minbase --include="$INCLUDE" \
    sid "$TMP" "$MIRROR" >"$log" 2>&1 || status=$?
if [ "$status" != 0 ]; then
    tail -n 20 "$log" >&2 || true
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        give_up "debootstrap did not finish within $TIMEOUT s (log: $log)"
    fi
    give_up "debootstrap failed with status $status (log: $log)"
fi
versions=$(root_complete "$TMP") ||
    give_up "debootstrap finished but python3.13/3.14/3.15 (and -dbg, and numpy from 3.14) do not all run in the root"

if [ -e "$DIR" ]; then
    OLD="$DIR.old.$$"
    mv "$DIR" "$OLD"
fi
mv "$TMP" "$DIR"
TMP=""
echo "sid-root.sh: built $DIR (Python$versions)"
