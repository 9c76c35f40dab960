#!/usr/bin/env bash
# Publish -> alert latency of one local subscriber against the sample table,
# with Redis pub/sub as the peer in the same run. Everything on loopback,
# stopped at the end.
set -euo pipefail
TA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$TA_ROOT/scripts/lib.sh"
EVENTS=${1:-200}

"$TA_ROOT/scripts/install-deps.sh"
BUILD=$TA_ROOT/build-bench
cmake -S "$TA_ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTA_BUILD_BENCH=ON -DTA_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j2 --target tariff-alertd tariff-alert publish_latency >/dev/null

WORK=$(mktemp -d -t tariff-alert-bench.XXXXXX)
TA_REDIS_PID=""
SERVER_PID=""
cleanup() { ta_stop_pid "$SERVER_PID"; ta_stop_pid "$TA_REDIS_PID"; rm -rf "$WORK"; }
trap cleanup EXIT
ta_start_redis "$WORK"
"$BUILD/clients/tariff-alert" load --redis "127.0.0.1:$TA_REDIS_PORT" --dir "$TA_ROOT/data/exposure" >/dev/null
"$BUILD/server/tariff-alertd" --listen 127.0.0.1:0 --port-file "$WORK/port" \
  --redis "127.0.0.1:$TA_REDIS_PORT" --log-level warning 2>"$WORK/server.log" &
SERVER_PID=$!
for i in $(seq 1 200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
echo "machine: $(nproc) cores, $(uname -r), $(date -u +%Y-%m-%dT%H:%MZ)"
"$BUILD/bench/publish_latency" --server "127.0.0.1:$(cat "$WORK/port")" \
  --redis-port "$TA_REDIS_PORT" --events "$EVENTS"
