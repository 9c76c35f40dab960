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

# The commands tariff-alertd and `tariff-alert load` send, and the ones their
# Lua scripts call (Redis 7 checks those too): the ACL a deployment gives the
# project's user (docs/redis.md, "Authentication and network").
TA_REDIS_ACL_COMMANDS="-@all +get +set +mget +incr +incrby +exists +expire +persist +hset +hget +hdel +hgetall +multi +exec +eval +xadd +xrange +xread +xtrim +select +wait +role"

# A random secret, hex, from the kernel.
ta_random_secret() {
  od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
}

# ta_start_redis DIR [--auth]: starts a private redis-server on 127.0.0.1 and
# a free port, with its files in DIR; sets TA_REDIS_PORT and TA_REDIS_PID.
# With --auth it needs a password: `requirepass` for the default user and an
# ACL user TA_REDIS_USER (default ta) limited to the keys TA_REDIS_KEYS
# (default 'ta:*'), no channels, and the commands TA_REDIS_ACL_COMMANDS plus
# TA_REDIS_EXTRA_COMMANDS. Both passwords are random and are written to files
# of mode 600 (DIR/redis-user.pass, DIR/redis-admin.pass), and the users to
# DIR/redis-auth.conf, which redis-server reads: so no secret is ever on a
# command line. Sets TA_REDIS_USER, TA_REDIS_PASSWORD_FILE,
# TA_REDIS_ADMIN_PASSWORD_FILE and TA_REDIS_AUTH_CONF (another redis-server
# started with that file as its first argument has the same users).
ta_start_redis() {
  local dir=$1 auth=${2:-} attempt conf=()
  local admin_password=""
  if [ "$auth" = --auth ]; then
    TA_REDIS_USER=${TA_REDIS_USER:-ta}
    TA_REDIS_PASSWORD_FILE=$dir/redis-user.pass
    TA_REDIS_ADMIN_PASSWORD_FILE=$dir/redis-admin.pass
    TA_REDIS_AUTH_CONF=$dir/redis-auth.conf
    local password
    password=$(ta_random_secret)
    admin_password=$(ta_random_secret)
    (
      umask 077
      printf '%s\n' "$password" >"$TA_REDIS_PASSWORD_FILE"
      printf '%s\n' "$admin_password" >"$TA_REDIS_ADMIN_PASSWORD_FILE"
      {
        echo "requirepass $admin_password"
        echo "user $TA_REDIS_USER on >$password resetkeys ~${TA_REDIS_KEYS:-ta:*} resetchannels $TA_REDIS_ACL_COMMANDS ${TA_REDIS_EXTRA_COMMANDS:-}"
      } >"$TA_REDIS_AUTH_CONF"
    )
    conf=("$TA_REDIS_AUTH_CONF")
  elif [ -n "$auth" ]; then
    echo "ta_start_redis: unknown option $auth" >&2
    return 2
  fi
  for attempt in 1 2 3 4 5; do
    TA_REDIS_PORT=$(ta_free_port)
    redis-server "${conf[@]}" --bind 127.0.0.1 --port "$TA_REDIS_PORT" --dir "$dir" \
      --save "" --appendonly no --logfile "$dir/redis.log" --daemonize no &
    TA_REDIS_PID=$!
    local i
    for i in $(seq 1 100); do
      # The password through the environment, not the command line.
      if (if [ -n "$admin_password" ]; then export REDISCLI_AUTH=$admin_password; fi
        redis-cli -h 127.0.0.1 -p "$TA_REDIS_PORT" ping 2>/dev/null) | grep -q PONG; then
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
