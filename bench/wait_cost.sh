#!/usr/bin/env bash
# The cost of WAIT on publish latency (docs/redis.md, "High availability with
# Sentinel"): one Redis primary and one replica on loopback, two tariff-alertd
# on that primary, one with --redis-min-replicas 0 (no WAIT) and one with
# --redis-min-replicas 1 (WAIT 1 after every commit script); publish_latency
# (B4) against each in turn, alternating, ROUNDS rounds each, in one run, so
# both see the same machine. Prints publish_latency's lines; the
# "PublishEvent round trip" p50/p99 is the figure.
# Usage: bench/wait_cost.sh [BUILD_DIR] (default build-bench, built Release).
set -euo pipefail
TA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$TA_ROOT/scripts/lib.sh"
BUILD=${1:-$TA_ROOT/build-bench}
if [ "$#" -eq 0 ]; then
  cmake -S "$TA_ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTA_BUILD_BENCH=ON \
    -DTA_BUILD_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j2 --target tariff-alertd tariff-alert publish_latency >/dev/null
fi
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-1000}
RATE=${RATE:-200}

WORK=$(mktemp -d -t tariff-alert-wait.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do ta_stop_pid "$p"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
redis() {  # name port [args...]
  mkdir -p "$WORK/$1"
  redis-server --bind 127.0.0.1 --port "$2" --dir "$WORK/$1" --save "" \
    --appendonly no "${@:3}" >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$2" ping 2>/dev/null | grep -q PONG && return; sleep 0.05; done
  echo "redis $1 did not start" >&2; exit 1
}
PRIMARY=$(ta_free_port)
redis primary "$PRIMARY"
REPLICA=$(ta_free_port)
redis replica "$REPLICA" --replicaof 127.0.0.1 "$PRIMARY"
for _ in $(seq 1 200); do
  redis-cli -p "$PRIMARY" info replication | grep -q "state=online" && break; sleep 0.05
done
python3 "$TA_ROOT/bench/gen_exposure.py" --tickers 2000 --countries 50 --seed 1 --out "$WORK/t"
declare -A PORT
for n in 0 1; do
  "$BUILD/clients/tariff-alert" load --redis "127.0.0.1:$PRIMARY" --redis-prefix "w$n:" \
    --dir "$WORK/t" >/dev/null
  "$BUILD/server/tariff-alertd" --listen 127.0.0.1:0 --port-file "$WORK/port$n" \
    --redis "127.0.0.1:$PRIMARY" --redis-prefix "w$n:" --redis-min-replicas "$n" \
    --log-level warning --insecure 2>>"$WORK/server$n.log" &
  PIDS+=($!)
  for _ in $(seq 1 600); do [ -s "$WORK/port$n" ] && break; sleep 0.05; done
  PORT[$n]=$(cat "$WORK/port$n")
done
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), primary :$PRIMARY, replica :$REPLICA; $(nproc) cores; $EVENTS events at $RATE/s per run, 1 subscriber"
for r in $(seq 1 "$ROUNDS"); do
  for n in 0 1; do
    "$BUILD/bench/publish_latency" --server "127.0.0.1:${PORT[$n]}" --redis-port "$PRIMARY" \
      --subscribers 1 --events "$EVENTS" --rate "$RATE" --time-limit-s 60 \
      --label "round $r, --redis-min-replicas $n" | grep -E "^B4|round trip" || true
  done
done
