#!/usr/bin/env bash
# Builds the server, the CLI (with the client library a trading system
# embeds) and the console gateway with clang's -Wthread-safety as errors: every
# ABSL_GUARDED_BY / ABSL_LOCKS_EXCLUDED annotation is checked (gcc ignores
# them). Debian's Abseil is not TSan-instrumented, so this static check is the
# one that holds here.
set -euo pipefail
TA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$TA_ROOT/build-thread-safety}
cmake -S "$TA_ROOT" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="-Wthread-safety -Werror=thread-safety" -DTA_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target tariff-alertd tariff-alert tariff-console
echo "thread-safety: the lock annotations hold"
