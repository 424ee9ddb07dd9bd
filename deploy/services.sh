#!/usr/bin/env bash
# Makes sure RabbitMQ and Redis answer on the addresses Mist's defaults use: does nothing
# when they already do, starts them when installed but stopped, installs them from
# Debian's packages when absent. Safe to run any number of times.
set -euo pipefail

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for() { # name port seconds
  for _ in $(seq 1 "$3"); do answers "$2" && return 0; sleep 1; done
  echo "deploy/services.sh: $1 does not answer on 127.0.0.1:$2 after $3 s" >&2; return 1
}

install() { # packages...
  if [ "$(id -u)" -ne 0 ]; then
    echo "deploy/services.sh: $* missing; install them (as root: apt-get install $*)" >&2; exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! answers 6379; then
  command -v redis-server >/dev/null || install redis-server
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null
  wait_for Redis 6379 30
fi

if ! answers 5672; then
  command -v rabbitmq-server >/dev/null || install rabbitmq-server
  rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_for RabbitMQ 5672 90
fi
echo "RabbitMQ (127.0.0.1:5672) and Redis (127.0.0.1:6379) answer"
