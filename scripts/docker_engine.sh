#!/usr/bin/env bash
# Start or stop a local Docker engine for `make image` and the container tests.
#
#   scripts/docker_engine.sh start   # no-op if `docker info` already works; prints "started <pid>" or "running"
#   scripts/docker_engine.sh stop    # stops only an engine this script started (by its recorded pid)
#   scripts/docker_engine.sh status
#   scripts/docker_engine.sh install CMD...  # as root: apt-get install the Debian packages of the missing
#                                            # commands (dockerd, docker, debootstrap), engine or not
#
# If no engine answers and we are root, Debian's docker.io (and debootstrap, for the stand-in base
# image) are installed with apt-get when missing (`apt-get update` first), then dockerd is started in
# the background with its output in $STATE_DIR/dockerd.log. It says why on stderr and exits 3 when this machine cannot run an
# engine at all (not root, no apt-get), 4 when it tried and failed (apt-get or dockerd failed).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE_DIR="${PERSONIO_DOCKER_STATE_DIR:-$ROOT/.build/docker}"
PIDFILE="$STATE_DIR/dockerd.pid"
LOG="$STATE_DIR/dockerd.log"
WAIT_SECONDS="${PERSONIO_DOCKER_WAIT:-60}"

say() { echo "docker_engine: $*" >&2; }
cannot() { say "cannot start a Docker engine: $*"; exit 3; }
failed() { say "failed to start a Docker engine: $*"; exit 4; }

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

# The Debian package that provides a command.
package_of() {
  case "$1" in
    dockerd|docker) echo docker.io ;;
    debootstrap) echo debootstrap ;;
    *) echo "$1" ;;
  esac
}

# install_packages CMD...: apt-get install the packages of the commands that are missing.
install_packages() {
  local missing=() cmd pkg
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 && continue
    pkg="$(package_of "$cmd")"
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || cannot "${missing[*]} is not installed and installing it needs root (uid is $(id -u))"
  command -v apt-get >/dev/null 2>&1 || cannot "${missing[*]} is not installed and apt-get is not available"
  mkdir -p "$STATE_DIR"
  say "installing ${missing[*]} with apt-get (log: $STATE_DIR/apt.log)"
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  } >"$STATE_DIR/apt.log" 2>&1 || failed "apt-get install ${missing[*]} failed (see $STATE_DIR/apt.log)"
}

start() {
  if engine_up; then echo "running"; return 0; fi
  mkdir -p "$STATE_DIR"
  command -v docker >/dev/null 2>&1 || [ "$(id -u)" -eq 0 ] || cannot "the docker client is not installed and we are not root"
  [ "$(id -u)" -eq 0 ] || cannot "no Docker engine is running and starting dockerd needs root (uid is $(id -u))"
  install_packages dockerd docker debootstrap
  command -v dockerd >/dev/null 2>&1 || failed "dockerd is still missing after apt-get"
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    say "dockerd pid $(cat "$PIDFILE") exists but does not answer yet; waiting"
  else
    # A stale socket/pidfile from a killed engine blocks a new one.
    rm -f /var/run/docker.pid /var/run/docker.sock
    setsid dockerd --storage-driver=overlay2 --iptables=false --bridge=none \
      >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
  fi
  local pid; pid="$(cat "$PIDFILE")"
  for _ in $(seq 1 "$WAIT_SECONDS"); do
    if engine_up; then echo "started $pid"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG" >&2; rm -f "$PIDFILE"; failed "dockerd exited (log: $LOG)"; }
    sleep 1
  done
  tail -n 20 "$LOG" >&2
  failed "dockerd pid $pid did not answer within ${WAIT_SECONDS}s (log: $LOG)"
}

stop() {
  if [ ! -f "$PIDFILE" ]; then echo "not started by this script"; return 0; fi
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then say "dockerd pid $pid ignored SIGTERM; sending SIGKILL"; kill -KILL "$pid"; fi
  fi
  rm -f "$PIDFILE"
  echo "stopped $pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  install) shift; install_packages "$@" ;;
  status) if engine_up; then echo "running"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status|install CMD..." >&2; exit 2 ;;
esac
