#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang-14, ASan + UBSan, in their
# own build dir) and runs each for a bounded time from its seeds, then prints
# a table of libFuzzer's final stats. Not part of tests/run.sh: the normal
# suite only replays the committed corpora (tests/fuzz/CMakeLists.txt).
#
#   scripts/fuzz.sh [-t SECONDS] [TARGET...]
#
# -t / TA_FUZZ_SECONDS   time per target (default 60; 12 targets = 12 minutes)
# TA_FUZZ_BUILD_DIR      build dir (default build-fuzz)
# TA_FUZZ_OUT            scratch dir for new corpus, logs and crash artifacts
#                        (default a new /tmp/tariff-alert-fuzz.XXXXXX; kept)
# TA_FUZZ_RSS_MB         libFuzzer -rss_limit_mb (default 2048)
# TARGET                 some of: exposure_csv event_json publish_request
#                        scoring_config book_codec alert_log alert_filter
#                        list_alerts credentials console_config
#                        console_request console_web_input
#
# Exits non-zero if any target crashed, leaked, timed out or ran out of
# memory; the inputs are listed at the end (add each, once fixed, to
# tests/fuzz/regressions/<target>/).
set -euo pipefail
TA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
ALL_TARGETS=(exposure_csv event_json publish_request scoring_config book_codec
             alert_log alert_filter list_alerts credentials console_config
             console_request console_web_input)

SECONDS_EACH=${TA_FUZZ_SECONDS:-60}
while getopts "t:h" opt; do
  case $opt in
    t) SECONDS_EACH=$OPTARG ;;
    *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  [ -f "$TA_ROOT/tests/fuzz/${t}_fuzz.cc" ] || { echo "fuzz: no target '$t'" >&2; exit 2; }
done

BUILD=${TA_FUZZ_BUILD_DIR:-$TA_ROOT/build-fuzz}
OUT=${TA_FUZZ_OUT:-$(mktemp -d -t tariff-alert-fuzz.XXXXXX)}
RSS_MB=${TA_FUZZ_RSS_MB:-2048}
mkdir -p "$OUT"

# Global flags, so that the project libraries the targets link are
# instrumented for coverage and sanitized too; -fsanitize=fuzzer (libFuzzer's
# main) is added on the targets' own link (tests/fuzz/CMakeLists.txt).
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$TA_ROOT} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
fi
if ! command -v clang++-14 >/dev/null ||
   ! compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "fuzz: needs clang-14 and libFuzzer: apt-get install clang-14 libclang-rt-14-dev" >&2
  exit 2
fi
started=$SECONDS
CC=clang-14 CXX=clang++-14 cmake -S "$TA_ROOT" -B "$BUILD" \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTA_BUILD_FUZZ=ON -DTA_BUILD_TESTS=OFF \
  "-DCMAKE_CXX_FLAGS=$SAN -fsanitize=fuzzer-no-link" \
  "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" "${launcher[@]}" >/dev/null
cmake --build "$BUILD" -j2 --target "${TARGETS[@]/%/_fuzz}" >"$OUT/build.log" 2>&1 ||
  { tail -30 "$OUT/build.log" >&2; echo "fuzz: build failed ($OUT/build.log)" >&2; exit 2; }
echo "fuzz: built ${#TARGETS[@]} targets in $((SECONDS - started)) s; ${SECONDS_EACH} s each; scratch $OUT"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

rows=()
failed=0
for t in "${TARGETS[@]}"; do
  corpus="$OUT/corpus/$t"
  artifacts="$OUT/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  for d in "$TA_ROOT/tests/fuzz/corpus/$t" "$TA_ROOT/tests/fuzz/regressions/$t"; do
    [ -d "$d" ] && seeds+=("$d")
  done
  dict=()
  [ -f "$TA_ROOT/tests/fuzz/dict/$t.dict" ] && dict=("-dict=$TA_ROOT/tests/fuzz/dict/$t.dict")
  log="$OUT/$t.log"
  rc=0
  # New inputs go into the first corpus dir, the scratch one; the seeds are
  # only read.
  "$BUILD/fuzz/${t}_fuzz" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
    -rss_limit_mb="$RSS_MB" -timeout=10 -artifact_prefix="$artifacts/" \
    "${dict[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  runs=$(final_stat number_of_executed_units)
  execs=$(final_stat average_exec_per_sec)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  found=$(find "$artifacts" -type f | wc -l)
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then failed=1; fi
  rows+=("$(printf '%-16s %10s %8s %6s %7s %8s' "$t" "${runs:-?}" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "$found")")
  echo "fuzz: $t done (exit $rc, $found artifacts; log $log)"
done

echo
printf '%-16s %10s %8s %6s %7s %8s\n' target runs exec/s cov ft crashes
for r in "${rows[@]}"; do echo "$r"; done
echo
echo "new corpus: $OUT/corpus/<target>/"
if [ "$failed" -ne 0 ]; then
  echo "artifacts (crash-*, leak-*, timeout-*, oom-*):"
  find "$OUT/artifacts" -type f | sort | sed 's/^/  /'
  echo "fuzz: FAILED: see the logs in $OUT"
  exit 1
fi
echo "fuzz: no crashes"
