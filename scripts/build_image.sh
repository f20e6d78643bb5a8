#!/usr/bin/env bash
# Build the connector image airbyte/source-personio:dev (`make image`), also on a machine without a
# container registry. The image is built by the same Dockerfile lines a plain `docker build .` runs.
#
# 1. Makes sure a Docker engine answers (scripts/docker_engine.sh start; an engine it starts keeps running,
#    stop it with `scripts/docker_engine.sh stop`).
# 2. Picks the base image: $BASE_IMAGE if set; else the pinned Airbyte base from the Dockerfile if it is
#    present or can be pulled within $PULL_TIMEOUT seconds; else the local stand-in base
#    personio-standin-base:bookworm (Debian bookworm minbase + python3 + python3-venv, built once with
#    debootstrap, which is installed with apt-get when missing, and cached).
# 3. Unless $PIP_INDEX_URL is set: downloads the wheels requirements-connector.lock pins (hash-checked) for
#    the base's Python and CPU into .build/index/files/, writes a PEP 503 simple index beside them and
#    serves .build/index/ on 127.0.0.1 (log: .build/index-server.log; stopped by its pid on exit).
# 4. docker build --network host --build-arg BASE_IMAGE=... --build-arg PIP_INDEX_URL=... (log:
#    .build/docker-build.log), then runs `spec` in the image as a smoke test.
#
# Environment: IMAGE (default airbyte/source-personio:dev), BASE_IMAGE, PULL_TIMEOUT (default 20),
#              STANDIN_IMAGE (default personio-standin-base:bookworm), PYTHON (default .venv/bin/python),
#              PIP_INDEX_URL (an index the build can reach instead of the local one), INDEX_PORT (the local
#              index's port, default 3141, any free one when taken), BUILDER_TAG (the builder stage is kept
#              under this tag as the next build's layer cache, default source-personio-builder:cache).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
IMAGE="${IMAGE:-airbyte/source-personio:dev}"
STANDIN_IMAGE="${STANDIN_IMAGE:-personio-standin-base:bookworm}"
PULL_TIMEOUT="${PULL_TIMEOUT:-20}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
INDEX_PORT="${INDEX_PORT:-3141}"
BUILDER_TAG="${BUILDER_TAG:-source-personio-builder:cache}"
LOCK="requirements-connector.lock"
BUILD_DIR="$ROOT/.build"
INDEX_DIR="$BUILD_DIR/index"

log() { echo "build_image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
SECONDS=0
mkdir -p "$BUILD_DIR"

# ---- 1. engine
bash "$ROOT/scripts/docker_engine.sh" start >/dev/null || die "no Docker engine (see the message above)"

# ---- 2. base image
DEFAULT_BASE="$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile | head -n1)"
[ -n "$DEFAULT_BASE" ] || die "Dockerfile has no 'ARG BASE_IMAGE=<default>' line"

build_standin() {
  bash "$ROOT/scripts/docker_engine.sh" install debootstrap || die "debootstrap is missing and could not be installed"
  local rootfs="$BUILD_DIR/standin-rootfs"
  log "building stand-in base $STANDIN_IMAGE with debootstrap (about a minute; log: $BUILD_DIR/debootstrap.log)"
  rm -rf "$rootfs"
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

# ---- 3. package index (host side: the build itself reaches only this index)
server_pid=""
stop_server() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi; }
trap stop_server EXIT

if [ -n "${PIP_INDEX_URL:-}" ]; then
  index_url="$PIP_INDEX_URL"
  log "package index (from \$PIP_INDEX_URL): $index_url"
else
  [ -x "$PYTHON" ] || die "$PYTHON not found: run 'make setup' first"
  # The base's interpreter and CPU decide which wheels the build installs.
  read -r py_version machine glibc < <(docker run --rm --network none --entrypoint python3 "$base" -c \
    'import os,platform,sys; print("%d.%d" % sys.version_info[:2], platform.machine(), os.confstr("CS_GNU_LIBC_VERSION").split()[1])') \
    || die "could not run python3 in $base"
  py_tag="${py_version/./}"
  platforms=(--platform "manylinux2014_$machine")
  for minor in $(seq 17 "${glibc#*.}"); do platforms+=(--platform "manylinux_2_${minor}_$machine"); done
  # A changed lock starts from an empty directory, so the index holds exactly what the lock pins.
  if ! cmp -s "$LOCK" "$INDEX_DIR/$LOCK" 2>/dev/null; then rm -rf "$INDEX_DIR"; fi
  mkdir -p "$INDEX_DIR/files"
  log "downloading the wheels $LOCK pins for CPython $py_version $machine (glibc $glibc) into $INDEX_DIR/files"
  "$PYTHON" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes \
    --implementation cp --python-version "$py_version" --abi "cp$py_tag" --abi abi3 --abi none "${platforms[@]}" \
    -r "$LOCK" -d "$INDEX_DIR/files" >"$BUILD_DIR/pip-download.log" 2>&1 \
    || { grep -v 'is ignored: it is neither' "$BUILD_DIR/pip-download.log" | tail -n 20 >&2; die "pip download of $LOCK failed"; }
  cp "$LOCK" "$INDEX_DIR/$LOCK"
  "$PYTHON" - "$INDEX_DIR" <<'PY'
"""Write a PEP 503 simple index (simple/<normalized name>/index.html) for the files in <index>/files."""
import hashlib, html, pathlib, re, sys

root = pathlib.Path(sys.argv[1])
projects: dict[str, list[pathlib.Path]] = {}
for f in sorted((root / "files").iterdir()):
    name = f.name.split("-")[0] if f.name.endswith(".whl") else f.name.rsplit("-", 1)[0]
    projects.setdefault(re.sub(r"[-_.]+", "-", name).lower(), []).append(f)
simple = root / "simple"
for name, files in projects.items():
    links = "".join(
        f'<a href="../../files/{html.escape(f.name)}#sha256={hashlib.sha256(f.read_bytes()).hexdigest()}">'
        f"{html.escape(f.name)}</a><br>\n"
        for f in files
    )
    (simple / name).mkdir(parents=True, exist_ok=True)
    (simple / name / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
(simple / "index.html").write_text(
    "<!DOCTYPE html>\n<html><body>\n"
    + "".join(f'<a href="{n}/">{n}</a><br>\n' for n in sorted(projects))
    + "</body></html>\n"
)
PY
  # A fixed port keeps the build arg, and so the builder's layer cache, the same from run to run.
  start_server() {
    rm -f "$BUILD_DIR/index-server.log"  # (not the backgrounded redirect: it may truncate after we read)
    "$PYTHON" -u -m http.server --bind 127.0.0.1 --directory "$INDEX_DIR" "$1" >"$BUILD_DIR/index-server.log" 2>&1 &
    server_pid=$!
    port=""
    for _ in $(seq 1 50); do
      port="$(sed -n 's/^Serving HTTP on .* port \([0-9]*\) .*/\1/p' "$BUILD_DIR/index-server.log" | head -n1)"
      [ -n "$port" ] && return 0
      kill -0 "$server_pid" 2>/dev/null || { wait "$server_pid" 2>/dev/null || true; server_pid=""; return 1; }
      sleep 0.1
    done
    return 1
  }
  start_server "$INDEX_PORT" || start_server 0 \
    || { cat "$BUILD_DIR/index-server.log" >&2; die "the local package index did not start"; }
  index_url="http://127.0.0.1:$port/simple"
  log "serving $(ls "$INDEX_DIR/files" | wc -l) wheels at $index_url (pid $server_pid, log $BUILD_DIR/index-server.log)"
fi

# ---- 4. image
# BuildKit when the buildx plugin is there, else the legacy builder (Debian's docker.io has no buildx).
# (--force-rm: the legacy builder otherwise keeps the container of a failed step.)
if docker buildx version >/dev/null 2>&1; then builder=(env DOCKER_BUILDKIT=1); extra=(--progress=plain)
else builder=(env DOCKER_BUILDKIT=0); extra=(--force-rm); fi
args=(--network host --build-arg "BASE_IMAGE=$base" --build-arg "PIP_INDEX_URL=$index_url" "${extra[@]}")
# The builder stage is tagged so that it stays (the legacy builder would leave it dangling and it would be
# pruned), and with it the dependency layer the next build reuses; then the image, from the same cache.
: >"$BUILD_DIR/docker-build.log"
run_build() {
  log "docker build ${args[*]} $*  (log: $BUILD_DIR/docker-build.log)"
  if ! "${builder[@]}" docker build "${args[@]}" "$@" >>"$BUILD_DIR/docker-build.log" 2>&1; then
    grep -v -e DEPRECATED -e 'legacy builder' -e 'BuildKit is currently disabled' -e 'environment-variable' \
      -e '^\s*$' "$BUILD_DIR/docker-build.log" | tail -n 40 >&2 || true
    die "docker build failed (full log: $BUILD_DIR/docker-build.log)"
  fi
}
run_build --target builder -t "$BUILDER_TAG" .
run_build -t "$IMAGE" .
stop_server
server_pid=""
# Leftovers of earlier builds: builder stages and images the new tags replaced (dangling only).
docker image prune -f --filter label=io.airbyte.personio.stage=builder >/dev/null 2>&1 || true
docker image prune -f --filter "label=io.airbyte.name=airbyte/source-personio" >/dev/null 2>&1 || true
docker run --rm --network none "$IMAGE" spec | grep -q '"type": *"SPEC"' || die "$IMAGE spec did not print a SPEC message"
size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
log "built $IMAGE on $base: $((size / 1000000)) MB, ${SECONDS}s"
echo "$IMAGE"
