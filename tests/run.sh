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
# As a deployment runs (docs/redis.md, "Authentication and network"): a
# password for the default user, and the tests as an ACL user limited to the
# test keys (every test's prefix starts with test:), the project's commands
# plus the few the tests use to look at and damage keys, with a random
# password in a file of mode 600 (never on a command line).
TA_REDIS_USER=ta-test
TA_REDIS_KEYS='test:*'
TA_REDIS_EXTRA_COMMANDS="+append +del +setrange +ttl +scan"
ta_start_redis "$WORK" --auth
export TA_TEST_REDIS="127.0.0.1:$TA_REDIS_PORT"
export TA_TEST_REDIS_USER=$TA_REDIS_USER
export TA_TEST_REDIS_PASSWORD_FILE=$TA_REDIS_PASSWORD_FILE
# For tests that start a redis-server of their own with the same users.
export TA_TEST_REDIS_AUTH_CONF=$TA_REDIS_AUTH_CONF
# The tests pass the credentials themselves; none may come from the caller.
unset TARIFF_ALERT_REDIS_USER TARIFF_ALERT_REDIS_PASSWORD
echo "tests: redis-server on $TA_TEST_REDIS, as ACL user $TA_TEST_REDIS_USER"

cd "$BUILD"
status=0
ctest --output-on-failure -j2 --timeout 300 "$@" || status=$?
# No test may have written a password to its output or a log.
if grep -qrF -f "$TA_REDIS_PASSWORD_FILE" -f "$TA_REDIS_ADMIN_PASSWORD_FILE" \
    "$BUILD/Testing/Temporary" "$WORK/redis.log"; then
  echo "tests: FAILED: a Redis password appears in a test log" >&2
  status=1
fi
exit "$status"
