#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs the Debian
# packages, builds, starts a private redis-server on a free loopback port and
# runs every test through ctest. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
TA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$TA_ROOT/scripts/lib.sh"

"$TA_ROOT/scripts/install-deps.sh"
BUILD=${TA_BUILD_DIR:-$TA_ROOT/build}
started=$SECONDS
# The benchmarks too (never run here): so they keep compiling.
ta_build "$BUILD" -DTA_BUILD_BENCH=ON
echo "tests: build took $((SECONDS - started)) s"
"$TA_ROOT/scripts/check-thread-safety.sh" "$BUILD-thread-safety" >/dev/null
echo "tests: lock annotations checked with clang -Wthread-safety"

WORK=$(mktemp -d -t tariff-alert-tests.XXXXXX)
TA_REDIS_PID=""
cleanup() { ta_stop_pid "$TA_REDIS_PID"; rm -rf "$WORK"; }
trap cleanup EXIT
ta_start_redis "$WORK"
export TA_TEST_REDIS="127.0.0.1:$TA_REDIS_PORT"
echo "tests: redis-server on $TA_TEST_REDIS"

cd "$BUILD"
ctest --output-on-failure -j2 --timeout 300 "$@"
