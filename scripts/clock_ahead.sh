#!/usr/bin/env bash
# Run a command with the wall clock moved ahead (default a year), as a machine whose clock reads
# a later date would: every process it starts (pytest, the CLI, PostgreSQL, the broker)
# sees the later date, except the test browser (tests/fixtures/browser.py says why). Usage:
# scripts/clock_ahead.sh [+365d] COMMAND...
#
# libfaketime (Debian faketime) moves the wall clock; the monotonic clock is left real
# (FAKETIME_DONT_FAKE_MONOTONIC), because timed waits reach the kernel with monotonic deadlines
# that libfaketime cannot translate and would hang. libfaketime 0.9.10 then breaks absolute
# monotonic sleeps (Python 3.11's time.sleep fails with EINVAL: libfaketime issue 426), so a
# small preloaded shim sends those straight to the kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
offset="+365d"
if [[ "${1:-}" == +* ]]; then offset="$1"; shift; fi
[ "$#" -gt 0 ] || { echo "usage: $0 [+365d] COMMAND..." >&2; exit 2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ ! -f "$lib" ] || ! command -v gcc >/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends faketime gcc libc6-dev
fi
shim=.venv/lib/monotonic-sleep.so
if [ ! -f "$shim" ]; then
  mkdir -p "$(dirname "$shim")"
  gcc -shared -fPIC -O2 -x c -o "$shim" - -ldl <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Monotonic sleeps go to the kernel as asked; others to libfaketime, which fakes them. */
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    static int (*next)(clockid_t, int, const struct timespec *, struct timespec *);
    if (clock == CLOCK_MONOTONIC) {
        return syscall(SYS_clock_nanosleep, clock, flags, req, rem) == 0 ? 0 : errno;
    }
    if (!next) next = dlsym(RTLD_NEXT, "clock_nanosleep");
    return next(clock, flags, req, rem);
}
C
fi
export LD_PRELOAD="$PWD/$shim:$lib${LD_PRELOAD:+:$LD_PRELOAD}"
export FAKETIME="$offset" FAKETIME_DONT_FAKE_MONOTONIC=1
exec "$@"
