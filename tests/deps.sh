#!/bin/sh
# deps.sh: install the Debian/Ubuntu packages pyheap's build and tests need, only those missing.
#
# A no-op (no apt-get, no network) when everything is installed: each package is checked with
# dpkg-query. Otherwise runs `apt-get update` once and `apt-get install` for the missing ones,
# non-interactively, as root or through sudo; without either it prints the exact command and
# exits 1. python3.11-dbg (the debug build's symbols for Debian's interpreter) is wanted only when
# /usr/bin/python3.11 exists and apt knows the package (Debian 12).
set -eu

PKGS="build-essential pkg-config libelf-dev libdw-dev libdebuginfod-dev zlib1g-dev libzstd-dev check"
PKGS="$PKGS debuginfod debootstrap util-linux gdb"
# numpy for the system Python: the ndarray decoder's test runs on Debian's python3.11 with it.
PKGS="$PKGS python3-numpy"
# Real packages for the census test's service heap (tests/integration/test_census.py), on
# Debian's python3.11.
PKGS="$PKGS python3-flask python3-requests python3-sqlalchemy python3-pandas python3-jinja2"
DBG=python3.11-dbg

# apt's and dpkg's locks (fcntl locks, listed in /proc/locks by device:inode). DEPS_LOCKS and
# DEPS_LOCK_TIMEOUT (seconds, default 600) may be set to test the wait.
LOCKS=${DEPS_LOCKS:-"/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock"}
LOCK_TIMEOUT=${DEPS_LOCK_TIMEOUT:-600}

lock_busy() {
    for f in $LOCKS; do
        [ -e "$f" ] || continue
        ino=$(stat -c %i "$f")
        grep -q ":$ino " /proc/locks 2>/dev/null && return 0
    done
    return 1
}

# A freshly booted host often runs unattended-upgrades: wait for it rather than fail.
wait_for_locks() {
    waited=0
    while lock_busy; do
        if [ "$waited" = 0 ]; then
            echo "deps.sh: another apt or dpkg is running (unattended-upgrades?); waiting up to" \
                "$LOCK_TIMEOUT s for its lock"
        fi
        if [ "$waited" -ge "$LOCK_TIMEOUT" ]; then
            echo "deps.sh: apt/dpkg still locked after $LOCK_TIMEOUT s; try again later" >&2
            exit 1
        fi
        sleep 2
        waited=$((waited + 2))
    done
    [ "$waited" = 0 ] || echo "deps.sh: the lock is free; going on"
}

if [ "${1:-}" = "--wait-for-locks" ]; then
    wait_for_locks
    exit 0
fi

installed() {
    # "ii " = wanted install, status installed; anything else (absent, half-configured) is missing.
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

installable() {
    # A candidate version exists in the package lists.
    cand=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

lists_present() {
    for f in /var/lib/apt/lists/*_Packages /var/lib/apt/lists/*_Packages.*; do
        [ -e "$f" ] && return 0
    done
    return 1
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: no dpkg/apt-get here; install by hand: $PKGS (and $DBG on Debian 12)" >&2
    exit 1
fi

missing=""
for p in $PKGS; do
    installed "$p" || missing="$missing $p"
done
want_dbg=no
if [ -x /usr/bin/python3.11 ] && ! installed "$DBG"; then
    want_dbg=yes
fi

if [ -z "$missing" ] && [ "$want_dbg" = no ]; then
    exit 0
fi
# Only python3.11-dbg is missing and apt's lists say it is not available: nothing to do (not
# Debian 12), and no reason to hit the network on every run.
if [ -z "$missing" ] && lists_present && ! installable "$DBG"; then
    exit 0
fi

need="$missing"
if [ "$want_dbg" = yes ]; then
    need="$need $DBG"
fi

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    SUDO="sudo"
else
    echo "deps.sh: missing packages:$need" >&2
    echo "deps.sh: not root and no usable sudo; as root, run:" >&2
    echo "  apt-get update &&" \
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$need" >&2
    exit 1
fi

apt() {
    # shellcheck disable=SC2086  # $SUDO is empty or one word
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 \
        -o DPkg::Lock::Timeout="$LOCK_TIMEOUT" "$@"
}

echo "deps.sh: installing:$need"
wait_for_locks
apt update
if [ "$want_dbg" = yes ] && installable "$DBG"; then
    missing="$missing $DBG"
fi
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    apt install --no-install-recommends $missing
fi
for p in $missing; do
    if ! installed "$p"; then
        echo "deps.sh: $p is still not installed" >&2
        exit 1
    fi
done
