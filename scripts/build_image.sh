#!/usr/bin/env bash
# Build the connector image airbyte/source-personio:dev (`make image`).
#
# 1. Makes sure a Docker engine answers (scripts/docker_engine.sh start; started engines keep running,
#    stop them with `scripts/docker_engine.sh stop`).
# 2. Picks the base image: $BASE_IMAGE if set; else the pinned Airbyte base from the Dockerfile if it
#    can be pulled within $PULL_TIMEOUT seconds; else the local stand-in base personio-standin-base:bookworm
#    (Debian bookworm minbase + python3 + python3-venv, built once with debootstrap and cached).
# 3. Builds wheels on the host for requirements-connector.lock and the connector into .build/wheelhouse/.
# 4. docker build with the same Dockerfile for both bases, then runs `spec` in the image as a smoke test.
#
# Environment: IMAGE (default airbyte/source-personio:dev), BASE_IMAGE, PULL_TIMEOUT (default 20),
#              STANDIN_IMAGE (default personio-standin-base:bookworm), PYTHON (default .venv/bin/python).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
IMAGE="${IMAGE:-airbyte/source-personio:dev}"
STANDIN_IMAGE="${STANDIN_IMAGE:-personio-standin-base:bookworm}"
PULL_TIMEOUT="${PULL_TIMEOUT:-20}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
BUILD_DIR="$ROOT/.build"
WHEELHOUSE="$BUILD_DIR/wheelhouse"

log() { echo "build_image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
SECONDS=0

# ---- 1. engine
bash "$ROOT/scripts/docker_engine.sh" start >/dev/null || die "no Docker engine (see the message above)"

# ---- 2. base image
DEFAULT_BASE="$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile | head -n1)"
[ -n "$DEFAULT_BASE" ] || die "Dockerfile has no 'ARG BASE_IMAGE=<default>' line"

build_standin() {
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (as root: apt-get install debootstrap)"
  local rootfs="$BUILD_DIR/standin-rootfs"
  log "building stand-in base $STANDIN_IMAGE with debootstrap (about a minute; log: $BUILD_DIR/debootstrap.log)"
  rm -rf "$rootfs"
  mkdir -p "$BUILD_DIR"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$rootfs" http://deb.debian.org/debian >"$BUILD_DIR/debootstrap.log" 2>&1 \
    || { tail -n 20 "$BUILD_DIR/debootstrap.log" >&2; die "debootstrap failed"; }
  # What the image never needs: package caches and lists, docs, man pages, translations.
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
         "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
         "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  ln -snf /usr/share/zoneinfo/Etc/UTC "$rootfs/etc/localtime"
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$STANDIN_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

if [ -n "${BASE_IMAGE:-}" ]; then
  base="$BASE_IMAGE"
  log "base image (from \$BASE_IMAGE): $base"
elif docker image inspect "$DEFAULT_BASE" >/dev/null 2>&1 \
     || timeout "$PULL_TIMEOUT" docker pull -q "$DEFAULT_BASE" >/dev/null 2>&1; then
  base="$DEFAULT_BASE"
  log "base image: $base"
else
  base="$STANDIN_IMAGE"
  if docker image inspect "$STANDIN_IMAGE" >/dev/null 2>&1; then
    log "registry not reachable; using the cached stand-in base $STANDIN_IMAGE"
  else
    log "registry not reachable; the pinned base cannot be pulled"
    build_standin
  fi
fi

# ---- 3. wheels (host side; the build itself never reaches an index)
[ -x "$PYTHON" ] || die "$PYTHON not found: run 'make setup' first"
rm -rf "$WHEELHOUSE" "$BUILD_DIR/pkg-src"
mkdir -p "$WHEELHOUSE" "$BUILD_DIR/pkg-src"
log "building wheels into $WHEELHOUSE"
"$PYTHON" -m pip wheel -q --disable-pip-version-check --no-deps -r requirements-connector.lock -w "$WHEELHOUSE" \
  2>"$BUILD_DIR/wheel.log" || { cat "$BUILD_DIR/wheel.log" >&2; die "pip wheel of requirements-connector.lock failed"; }
# Build the connector from a copy holding only what the package ships, so nothing else can leak in.
cp pyproject.toml "$BUILD_DIR/pkg-src/"
if [ -f README.md ]; then cp README.md "$BUILD_DIR/pkg-src/"; else echo "# source-personio" >"$BUILD_DIR/pkg-src/README.md"; fi
[ -f LICENSE ] && cp LICENSE "$BUILD_DIR/pkg-src/"
tar -C "$ROOT" --exclude='__pycache__' --exclude='*.pyc' -c source_personio | tar -C "$BUILD_DIR/pkg-src" -x
"$PYTHON" -m pip wheel -q --disable-pip-version-check --no-deps "$BUILD_DIR/pkg-src" -w "$WHEELHOUSE" \
  2>>"$BUILD_DIR/wheel.log" || { cat "$BUILD_DIR/wheel.log" >&2; die "pip wheel of the connector failed"; }
rm -rf "$BUILD_DIR/pkg-src"
version="$("$PYTHON" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')"
dist="$("$PYTHON" -c 'import tomllib;print(tomllib.load(open("pyproject.toml","rb"))["project"]["name"])')"
{ grep -v '^\s*#' requirements-connector.lock | grep -v '^\s*$'; echo "$dist==$version"; } \
  >"$WHEELHOUSE/requirements.txt"

# ---- 4. image
log "docker build -t $IMAGE (base $base)"
build() { DOCKER_BUILDKIT=0 docker build "$@" --build-arg "BASE_IMAGE=$base" -t "$IMAGE" -f Dockerfile "$ROOT"; }
# (The legacy builder ships with Debian's docker.io; its deprecation notice is noise here.)
if ! build -q >/dev/null 2>"$BUILD_DIR/docker-build.log"; then
  grep -v -e DEPRECATED -e 'legacy builder' -e buildx -e '^\s*$' "$BUILD_DIR/docker-build.log" >&2 || true
  log "docker build failed; re-running verbosely"
  build
  exit 1
fi
# Leftovers of this and earlier builds: the builder stage and images the new tag replaced (dangling only).
docker image prune -f --filter label=io.airbyte.personio.stage=builder >/dev/null 2>&1 || true
docker image prune -f --filter "label=io.airbyte.name=airbyte/source-personio" >/dev/null 2>&1 || true
docker run --rm "$IMAGE" spec | grep -q '"type": *"SPEC"' || die "$IMAGE spec did not print a SPEC message"
size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
log "built $IMAGE on $base: $((size / 1000000)) MB, ${SECONDS}s"
echo "$IMAGE"
