#!/usr/bin/env bash
# Runs benchmarks B1-B6, each beside its peer in the same run, and the scale
# curves (B1 and B4 against table size, B2 and B3 against subscribers), and
# writes bench/results/<date>.md (and the raw .csv beside it, the curves'
# points as <date>-curves.csv and their chart as <date>-curves.png). Builds
# a Release tree in build-bench/ first (TA_BENCH_BUILD=DIR for another;
# TA_BENCH_CMAKE_ARGS adds configure arguments, e.g.
# -DCMAKE_CXX_COMPILER_LAUNCHER=ccache; TA_BENCH_OUT=PATH writes PATH.md,
# PATH.csv, ... instead of bench/results/<date>.*). Everything listens on
# 127.0.0.1 and stops by itself; a private redis-server on a free port
# serves the Redis peers and B4/B6. Method and reading: docs/performance.md.
set -euo pipefail
TA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$TA_ROOT/scripts/lib.sh"
START=$(date +%s)

# --bench: the default list and python3-matplotlib for the chart.
"$TA_ROOT/scripts/install-deps.sh" --bench
BUILD=${TA_BENCH_BUILD:-$TA_ROOT/build-bench}
# shellcheck disable=SC2086 # TA_BENCH_CMAKE_ARGS is a list of arguments
cmake -S "$TA_ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTA_BUILD_BENCH=ON \
  -DTA_BUILD_TESTS=OFF ${TA_BENCH_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j2 --target tariff-alertd tariff-alert scoring_bench \
  fanout_server fanout_bench pubsub_peer publish_latency >/dev/null
B=$BUILD/bench

WORK=$(mktemp -d -t tariff-alert-bench.XXXXXX)
TA_REDIS_PID=""
SERVER_PID=""
cleanup() { ta_stop_pid "$SERVER_PID"; ta_stop_pid "$TA_REDIS_PID"; rm -rf "$WORK"; }
trap cleanup EXIT
ta_start_redis "$WORK"
RP=$TA_REDIS_PORT
CSV=$WORK/results.csv
FANOUT="$B/fanout_bench --server-binary $B/fanout_server --csv $CSV"
PEER="$B/pubsub_peer --redis-port $RP --csv $CSV"
# Each step's heading says how long the one before took.
STEP_START=$(date +%s)
step() {
  local now
  now=$(date +%s)
  echo
  echo "== $* ($(( now - START )) s in; the step before took $(( now - STEP_START )) s)"
  STEP_START=$now
}
# A benchmark that fails (or measures nothing: publish_latency exits
# non-zero then) is named in the report and fails the whole run at the end;
# the others still run.
FAILED=()
run() {
  local rc=0
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "FAILED (exit $rc): $(basename "$1") ${*:2}" >&2
    FAILED+=("exit $rc: $(basename "$1") ${*:2}")
  fi
}

step "B1 scoring"
python3 "$TA_ROOT/bench/gen_exposure.py" --tickers 10000 --countries 50 --seed 1 --out "$WORK/t10k"
python3 "$TA_ROOT/bench/gen_exposure.py" --tickers 50000 --countries 50 --seed 1 --out "$WORK/t50k"
run "$B/scoring_bench" --dir "$WORK/t10k" --redis-port "$RP" --events 2000 --naive-events 3 --csv "$CSV"
run "$B/scoring_bench" --dir "$WORK/t50k" --redis-port "$RP" --events 500 --naive-events 2 --csv "$CSV"

# The lean tables of the scale curves: about 4.5 rows per ticker, so that
# 200k tickers stay under the loader's 1,000,000 rows per file (the
# standard profile's 11 rows per ticker stop at about 90k).
CURVE_TICKERS="1000 10000 50000 200000"
step "B1 scale curve (lean tables of $CURVE_TICKERS tickers)"
for t in $CURVE_TICKERS; do
  python3 "$TA_ROOT/bench/gen_exposure.py" --tickers "$t" --profile lean --countries 50 --seed 1 \
    --out "$WORK/lean$t"
  case $t in 1000) n=2000 ;; 10000) n=1000 ;; 50000) n=200 ;; *) n=50 ;; esac
  run "$B/scoring_bench" --dir "$WORK/lean$t" --redis-port "$RP" --events "$n" --naive-events 1 \
    --bench "B1 curve" --csv "$CSV"
done

# B2 and B3 at 5,000 subscribers (and B3 at 10) are the points of their
# scale curves beyond the 10, 100 and 1,000 of the set.
step "B2 fan-out throughput"
for subs in 10 100 1000 5000; do
  case $subs in 10) n=200000 ;; 100) n=50000 ;; 1000) n=5000 ;; 5000) n=1000 ;; esac
  run $FANOUT --mode throughput --subscribers $subs --alerts $n --event-alerts 64 --time-limit-s 60
  run $PEER --mode throughput --subscribers $subs --messages $n --pipeline 64 --time-limit-s 60
done

step "B3 latency"
for rate in 100 1000; do
  n=$(( rate * 3 ))
  subs_list="1 100 1000"
  [ "$rate" = 100 ] && subs_list="1 10 100 1000 5000"
  for subs in $subs_list; do
    limit=30
    [ "$subs" = 5000 ] && limit=60
    run $FANOUT --mode latency --subscribers $subs --rate $rate --alerts $n --time-limit-s $limit
    run $PEER --mode latency --subscribers $subs --rate $rate --messages $n --time-limit-s $limit
  done
done

step "B5 one slow subscriber of 100"
run $FANOUT --mode latency --subscribers 100 --rate 1000 --alerts 3000 --stall-one --bench B5 --time-limit-s 30
run $PEER --mode latency --subscribers 100 --rate 1000 --messages 3000 --stall-one --bench B5 --time-limit-s 30

# A tariff-alertd on the private Redis with a generated table loaded.
start_server() {
  rm -f "$WORK/port"
  "$BUILD/server/tariff-alertd" --listen 127.0.0.1:0 --port-file "$WORK/port" \
    --redis "127.0.0.1:$RP" --redis-prefix "$1" --log-level warning --insecure 2>>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 1200); do [ -s "$WORK/port" ] && break; sleep 0.05; done
  [ -s "$WORK/port" ] || { echo "tariff-alertd did not start:"; cat "$WORK/server.log"; exit 1; }
}

step "B4 end to end, 10k-ticker table"
"$BUILD/clients/tariff-alert" load --redis "127.0.0.1:$RP" --redis-prefix b4: --dir "$WORK/t10k" >/dev/null
start_server b4:
# The quiet case (the p50 <= 500 us target), then the busy one; each beside
# its XADD + PUBLISH peer (publish_latency --peer, the default).
run "$B/publish_latency" --server "127.0.0.1:$(cat "$WORK/port")" --redis-port "$RP" \
  --subscribers 100 --events 100 --rate 10 --label "100 subscribers, 10k tickers, 10/s" \
  --time-limit-s 30 --csv "$CSV"
run "$B/publish_latency" --server "127.0.0.1:$(cat "$WORK/port")" --redis-port "$RP" \
  --subscribers 100 --events 500 --rate 1000 --label "100 subscribers, 10k tickers, 1000/s" \
  --time-limit-s 60 --csv "$CSV"
ta_stop_pid "$SERVER_PID"; SERVER_PID=""

step "B4 scale curve (lean tables of $CURVE_TICKERS tickers, 10 events/s)"
for t in $CURVE_TICKERS; do
  "$BUILD/clients/tariff-alert" load --redis "127.0.0.1:$RP" --redis-prefix "c$t:" --dir "$WORK/lean$t" >/dev/null
  start_server "c$t:"
  run "$B/publish_latency" --server "127.0.0.1:$(cat "$WORK/port")" --redis-port "$RP" \
    --subscribers 100 --events 50 --rate 10 --bench "B4 curve" \
    --label "100 subscribers, $(( t / 1000 ))k tickers (lean), 10/s" --time-limit-s 30 --csv "$CSV"
  ta_stop_pid "$SERVER_PID"; SERVER_PID=""
done

step "B6 memory"
"$BUILD/clients/tariff-alert" load --redis "127.0.0.1:$RP" --redis-prefix b6: --dir "$WORK/t50k" >/dev/null
start_server b6:
sleep 1
b6() { echo "B6,tariff-alert,\"50000 tickers\",$1,$(awk -v k="$2:" '$1==k{print $2}' /proc/$SERVER_PID/status),KiB" >>"$CSV"; }
b6 rss_kib_with_table VmRSS
# The peak: the first load (at start), then a new version of the same size
# swapped in while the old one serves (another seed: other figures, so a new
# version); VmHWM is the process's peak RSS so far.
b6 peak_kib_first_load VmHWM
python3 "$TA_ROOT/bench/gen_exposure.py" --tickers 50000 --countries 50 --seed 2 --out "$WORK/t50k-2"
"$BUILD/clients/tariff-alert" load --redis "127.0.0.1:$RP" --redis-prefix b6: --dir "$WORK/t50k-2" >/dev/null
# The watcher polls every 200 ms and parses for a few seconds: wait until
# the peak has not moved for 3 s (bounded: 60 s).
prev=0; still=0
for _ in $(seq 1 60); do
  sleep 1
  now=$(awk '$1=="VmHWM:"{print $2}' /proc/$SERVER_PID/status)
  if [ "$now" = "$prev" ]; then still=$((still + 1)); else still=0; fi
  prev=$now
  [ "$still" -ge 3 ] && break
done
b6 peak_kib_swap VmHWM
b6 rss_kib_after_swap VmRSS
grep -E ",(rss_kib_with_table|peak_kib_first_load|peak_kib_swap|rss_kib_after_swap)," "$CSV"
ta_stop_pid "$SERVER_PID"; SERVER_PID=""
run $FANOUT --mode idle --subscribers 1000 --time-limit-s 60 --bench B6

OUT=${TA_BENCH_OUT:-$TA_ROOT/bench/results/$(date -u +%F)}
mkdir -p "$(dirname "$OUT")"
step "scale curves: $OUT-curves.csv and .png"
# Debian's interpreter: matplotlib is Debian's package (install-deps.sh --bench).
run /usr/bin/python3 "$TA_ROOT/bench/plot_curves.py" "$CSV" --csv-out "$OUT-curves.csv" \
  --png "$OUT-curves.png"

step "report"
ELAPSED=$(( $(date +%s) - START ))
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "commit: $(git -C "$TA_ROOT" rev-parse --short HEAD)$(git -C "$TA_ROOT" diff --quiet || echo ' (with uncommitted changes)')"
  echo "cpu: $(nproc) x $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  echo "memory: $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r); $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); grpc $(dpkg-query -W -f='${Version}' libgrpc++-dev); hiredis $(dpkg-query -W -f='${Version}' libhiredis-dev)"
} >"$WORK/machine.txt"
python3 "$TA_ROOT/bench/report.py" "$CSV" "$WORK/machine.txt" "$ELAPSED" "$(basename "$OUT")-curves.png" >"$OUT.md"
cp "$CSV" "$OUT.csv"
if [ "${#FAILED[@]}" -gt 0 ]; then
  {
    echo
    echo "## Failed in this run"
    echo
    for f in "${FAILED[@]}"; do echo "- $f"; done
  } >>"$OUT.md"
fi
echo
echo "wrote $OUT.md and $OUT.csv in $ELAPSED s"
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "bench: ${#FAILED[@]} benchmark(s) FAILED:" >&2
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
