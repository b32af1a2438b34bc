#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1 for the test suite: start them if installed
# but stopped, install them from Debian's packages when run as root and missing, else explain.
set -euo pipefail

PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

await_port() {  # $1 port, $2 name: poll until it answers, for up to 30 s
  for _ in $(seq 1 150); do answers "$1" && return 0; sleep 0.2; done
  echo "error: $2 did not start listening on 127.0.0.1:$1" >&2
  exit 1
}

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $1 is not running on 127.0.0.1 and is not installed." >&2
    echo "       install it with: sudo apt-get install -y $2   (then run make test again)" >&2
    exit 1
  fi
  echo "Installing $2 from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

if ! answers "$PG_PORT"; then
  fresh=no
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install PostgreSQL postgresql
    fresh=yes
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  answers "$PG_PORT" || pg_ctlcluster --skip-systemctl-redirect "$version" main start
  await_port "$PG_PORT" PostgreSQL
  if [ "$fresh" = yes ]; then
    # Debian's default authentication over TCP asks for a password; give the test role one.
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\""
  fi
fi

if ! answers "$REDIS_PORT"; then
  command -v redis-server >/dev/null || apt_install Redis redis-server
  answers "$REDIS_PORT" || redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
    --save "" --appendonly no --logfile "${TMPDIR:-/tmp}/jbtestsuite-redis.log"
  await_port "$REDIS_PORT" Redis
fi
echo "PostgreSQL (127.0.0.1:$PG_PORT) and Redis (127.0.0.1:$REDIS_PORT) are up."
