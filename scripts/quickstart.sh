#!/usr/bin/env bash
# One command from a fresh Debian machine to alerts on the screen: installs the
# Debian packages, builds, starts a private redis-server and the server on
# loopback with mutual TLS and bearer tokens (throw-away credentials made by
# scripts/dev-credentials.sh), loads the sample exposure table, replays the 2025 tariff timeline
# and shows the alerts as they stream, each event closed by its impact on a
# sample $10M portfolio. Cleans up after itself unless --keep-running is given.
set -euo pipefail
TA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$TA_ROOT/scripts/lib.sh"

KEEP=0
TOP=5
DELAY_MS=400
# A sample $10M book of five well-known holdings (ticker=position value, USD).
HOLDINGS=AAPL=3000000,NVDA=2000000,WMT=2000000,NKE=1500000,F=1500000
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-running) KEEP=1 ;;
    --top) TOP=$2; shift ;;
    --delay-ms) DELAY_MS=$2; shift ;;
    --holdings) HOLDINGS=$2; shift ;;
    -h|--help)
      echo "usage: scripts/quickstart.sh [--keep-running] [--top N] [--delay-ms MS] [--holdings LIST]"
      echo "  --keep-running  leave redis-server, tariff-alertd and the console running at the end"
      echo "                  (and, on a terminal, wait for Enter before the timeline)"
      echo "  --top N         alerts shown per event (largest first; default 5)"
      echo "  --delay-ms MS   pause between published events (default 400)"
      echo "  --holdings LIST the portfolio each event is applied to, TICKER=VALUE,..."
      echo "                  (default: a \$10M sample book, $HOLDINGS)"
      exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

WORK=$(mktemp -d -t tariff-alert-quickstart.XXXXXX)
TA_REDIS_PID=""
SERVER_PID=""
WATCH_PID=""
CONSOLE_PID=""
cleanup() {
  ta_stop_pid "$WATCH_PID"
  ta_stop_pid "$CONSOLE_PID"
  ta_stop_pid "$SERVER_PID"
  ta_stop_pid "$TA_REDIS_PID"
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== 1/5 Debian packages"
"$TA_ROOT/scripts/install-deps.sh"
echo "== 2/5 build (a few minutes the first time)"
BUILD=$TA_ROOT/build
if ! ta_build "$BUILD" >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log" >&2
  exit 1
fi
CLI=$BUILD/clients/tariff-alert
SERVER=$BUILD/server/tariff-alertd

echo "== 3/5 redis-server and the sample exposure table"
ta_start_redis "$WORK"
REDIS=127.0.0.1:$TA_REDIS_PORT
"$CLI" load --redis "$REDIS" --dir "$TA_ROOT/data/exposure"

echo "== 4/5 tariff-alertd, mutual TLS and tokens (throw-away credentials in $WORK/creds)"
CREDS=$WORK/creds
"$TA_ROOT/scripts/dev-credentials.sh" "$CREDS" "$CLI" >/dev/null
# --book-clock events: the 2025 pauses lapse by the timeline's own dates, not
# by today's (which would snap them all back at once).
"$SERVER" --listen 127.0.0.1:0 --port-file "$WORK/port" --redis "$REDIS" \
  --heartbeat-seconds 1 --book-clock events \
  --tls-cert "$CREDS/server.pem" --tls-key "$CREDS/server.key" \
  --tls-client-ca "$CREDS/ca.pem" --tokens-file "$CREDS/tokens.txt" \
  2>"$WORK/server.log" &
SERVER_PID=$!
for i in $(seq 1 200); do
  [ -s "$WORK/port" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.05
done
[ -s "$WORK/port" ] || { echo "tariff-alertd did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
ADDR=127.0.0.1:$(cat "$WORK/port")
echo "serving on $ADDR (redis $REDIS)"
# What every client passes: the CA, its certificate, and a token file.
TLS="--tls-ca $CREDS/ca.pem --tls-cert $CREDS/client.pem --tls-key $CREDS/client.key"

# The risk console (docs/console.md): a web gateway to the server, on a free
# loopback port; log in with the analyst token.
# shellcheck disable=SC2086
"$BUILD/server/console_web/tariff-console" --listen 127.0.0.1:0 --server "$ADDR" $TLS \
  >"$WORK/console.out" 2>"$WORK/console.log" &
CONSOLE_PID=$!
for i in $(seq 1 200); do
  grep -q "serving" "$WORK/console.out" 2>/dev/null && break
  kill -0 "$CONSOLE_PID" 2>/dev/null || { cat "$WORK/console.log" >&2; exit 1; }
  sleep 0.05
done
CONSOLE_URL=$(grep -o 'http[s]*://[^ ]*' "$WORK/console.out" | head -1)
[ -n "$CONSOLE_URL" ] || { echo "tariff-console did not start" >&2; cat "$WORK/console.log" >&2; exit 1; }
echo "risk console: $CONSOLE_URL  (log in with the analyst token $(cat "$CREDS/analyst.token"))"
echo "  or in a terminal: $CLI console --server $ADDR $TLS --token-file $CREDS/analyst.token"
if [ "$KEEP" = 1 ] && [ -t 0 ]; then
  # Time to open the console and watch the timeline stream in.
  read -r -t 120 -p "open the console, then press Enter to publish the timeline (or wait 2 min) " _ || true
  echo
fi

echo "== 5/5 the 2025 tariff timeline, $TOP largest alerts per event as they stream"
echo "   and, as each event's last line, its impact on the portfolio $HOLDINGS"
# shellcheck disable=SC2086
"$CLI" watch --server "$ADDR" $TLS --token-file "$CREDS/subscriber.token" \
  --top-per-event "$TOP" --holdings "$HOLDINGS" 2>"$WORK/watch.err" &
WATCH_PID=$!
for i in $(seq 1 100); do grep -q "# live" "$WORK/watch.err" 2>/dev/null && break; sleep 0.05; done
# shellcheck disable=SC2086
"$CLI" publish --server "$ADDR" $TLS --token-file "$CREDS/publisher.token" \
  --file "$TA_ROOT/data/scenarios/july-2025.jsonl" --delay-ms "$DELAY_MS" >"$WORK/publish.log"
sleep 2  # the last alerts reach the watcher in milliseconds; heartbeats come every second
ta_stop_pid "$WATCH_PID"
WATCH_PID=""
events=$(grep -c ': .* alerts' "$WORK/publish.log" || true)
last=$(grep -o 'sequences [0-9]*-[0-9]*' "$WORK/publish.log" | tail -1 | cut -d- -f2)
echo
echo "published $events events, $last alerts. Scores are bps of revenue (negative hurts); a"
echo "PORTFOLIO line is the event's estimated change of the book's value (bps of the book,"
echo "then the largest holdings). The sample table is illustrative (data/README.md); the"
echo "model, and the portfolio formula, are in docs/scoring.md."
echo
echo "What if the US-China pause had lapsed on 2025-11-10 without a second extension? A"
echo "backtest on a private book (tariff-alert replay, docs/replay.md), the snap-back rows:"
"$CLI" replay "$TA_ROOT/data/scenarios/july-2025.jsonl" --exposure-dir "$TA_ROOT/data/exposure" \
  --until 2025-11-11 --tickers AAPL,BBY,TXN,BA,NUE 2>/dev/null |
  python3 -c 'import csv, sys
for r in csv.DictReader(sys.stdin):
    if r["snap_back"] == "1":
        print("  %-46s %-5s %+9.1f bps  (%s)" % (r["event_id"], r["subject"], float(r["score_bps"]), r["rate_changes"]))'

if [ "$KEEP" = 1 ]; then
  trap - EXIT
  cat <<MSG

Still running (stop with: kill $CONSOLE_PID $SERVER_PID $TA_REDIS_PID; rm -rf $WORK).
The risk console: $CONSOLE_URL, log in with the analyst token
  $(cat "$CREDS/analyst.token")
  (read-only: the subscriber token in $CREDS/subscriber.token). In a terminal:
  $CLI console --server $ADDR \$TLS --token-file $CREDS/analyst.token
Mutual TLS and tokens: the clients' flags are in \$TLS, the tokens in $CREDS:
  TLS="$TLS"
  $CLI watch --server $ADDR \$TLS --token-file $CREDS/subscriber.token --explain
  $CLI watch --server $ADDR \$TLS --token-file $CREDS/subscriber.token --kinds portfolio --holdings $HOLDINGS --explain
  $CLI publish --server $ADDR \$TLS --token-file $CREDS/publisher.token --event-id my-1 --imposing US --targets VN --rate 46
  $CLI load --redis $REDIS --dir $TA_ROOT/data/exposure
MSG
fi
