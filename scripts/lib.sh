# Shared by scripts/quickstart.sh and tests/run.sh; source it, don't run it.

# ta_build DIR [CMAKE_ARGS...]: configure and build the project with both
# cores.
ta_build() {
  local dir=$1
  shift
  cmake -S "$TA_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j2
}

# A port nobody listens on right now, from the kernel.
ta_free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# ta_start_redis DIR: starts a private redis-server on 127.0.0.1 and a free
# port, with its files in DIR; sets TA_REDIS_PORT and TA_REDIS_PID.
ta_start_redis() {
  local dir=$1 attempt
  for attempt in 1 2 3 4 5; do
    TA_REDIS_PORT=$(ta_free_port)
    redis-server --bind 127.0.0.1 --port "$TA_REDIS_PORT" --dir "$dir" \
      --save "" --appendonly no --logfile "$dir/redis.log" --daemonize no &
    TA_REDIS_PID=$!
    local i
    for i in $(seq 1 100); do
      if redis-cli -h 127.0.0.1 -p "$TA_REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
        return 0
      fi
      kill -0 "$TA_REDIS_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill "$TA_REDIS_PID" 2>/dev/null || true
    wait "$TA_REDIS_PID" 2>/dev/null || true
  done
  echo "could not start redis-server (see $dir/redis.log)" >&2
  return 1
}

ta_stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
