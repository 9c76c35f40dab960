#!/usr/bin/env bash
# Installs the Debian packages tariff-alert needs to build, run and test.
# Idempotent: installs only what is missing; does nothing else.
#   install-deps.sh           build, run and test (what CI installs)
#   install-deps.sh --build   building only (the container's build stage)
#   install-deps.sh --bench   the default list and what bench/run_all.sh needs
#                             (matplotlib, which the default list now has too)
set -euo pipefail

# What building needs (the container's build stage installs only these:
# install-deps.sh --build, Dockerfile).
BUILD_PACKAGES=(
  # build
  cmake g++ make pkg-config
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libhiredis-dev libcli11-dev
  # tariff-alertd --config FILE (YAML)
  libyaml-cpp-dev
  # the consoles: cpp-httplib (with OpenSSL for HTTPS) for the web console,
  # ncurses for the terminal one
  libcpp-httplib-dev libssl-dev libncurses-dev
  # tariff-alertd --metrics-listen: prometheus-cpp (core and the civetweb
  # pull exposer)
  prometheus-cpp-dev
)
PACKAGES=(
  "${BUILD_PACKAGES[@]}"
  # run
  redis-server redis-tools
  # test: Sentinel failover (tests/operations)
  redis-sentinel
  # test: a real Prometheus scraping tariff-alertd, and promtool for the
  # alerting rules (tests/metrics)
  prometheus
  # test: GoogleTest, Debian's Python gRPC for the interop tests, clang for
  # the -Wthread-safety check
  libgtest-dev libgmock-dev python3 python3-grpcio python3-protobuf clang-14
  # test: the consoles, driven as a person would (headless Chromium from
  # Debian, tmux for the terminal console)
  chromium tmux
  # test: the backtest's chart (scripts/plot_backtest.py, tests/clients)
  python3-matplotlib
)

# What bench/run_all.sh needs for the scale curves' chart (bench/plot_curves.py,
# run with Debian's /usr/bin/python3). The default list has it too, for the
# backtest chart's test; it stays here so --bench says what the bench needs.
BENCH_PACKAGES=(python3-matplotlib)

BUILD_ONLY=0
case "${1:-}" in
  "") ;;
  --build)
    BUILD_ONLY=1
    PACKAGES=("${BUILD_PACKAGES[@]}")
    ;;
  --bench) PACKAGES+=("${BENCH_PACKAGES[@]}") ;;
  *)
    echo "install-deps: unknown option $1 (--build, --bench, or none)" >&2
    exit 2
    ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# The browser test's driver (npm's puppeteer-core, tests/console) needs
# Node.js and npm: Debian's, unless the machine already has them.
if [ "$BUILD_ONLY" = 0 ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
