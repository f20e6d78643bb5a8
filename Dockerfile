# Airbyte source connector for Personio: the image an Airbyte instance runs.
#
#   docker build -t airbyte/source-personio:dev .                       # registry + PyPI reachable
#   docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/source-personio:0.1.0 --push .
#   make image                                                          # offline (scripts/build_image.sh)
#
# The locked runtime dependencies (requirements-connector.lock, every file pinned by sha256) are installed
# inside the build with `pip install --require-hashes`, as wheels only, for whatever platform the build
# targets; then the connector itself from the copied source, without dependencies. Nothing is built on
# the host. `make image` runs these same lines against a stand-in base and a local package index on
# loopback (--network host --build-arg PIP_INDEX_URL=http://127.0.0.1:<port>/simple).
#
#   docker run --rm airbyte/source-personio:dev spec
#   docker run --rm -v "$PWD/secrets:/data:ro" airbyte/source-personio:dev check --config /data/config.json

ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

# ---- builder: a virtual environment with the locked dependencies and the connector
FROM ${BASE_IMAGE} AS builder
# Lets scripts/build_image.sh prune this stage's leftover image (the legacy builder keeps it).
LABEL io.airbyte.personio.stage="builder"
# The package index the build installs from (a PEP 503 "simple" index).
ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1
COPY requirements-connector.lock /tmp/build/
# A venv works on both bases (Debian's system python is "externally managed"; the Airbyte base is not).
# Dependencies first, in their own layer: a source change does not download them again.
RUN python3 -m venv /airbyte/venv \
 && /airbyte/venv/bin/python -m pip install --index-url "${PIP_INDEX_URL}" \
        --require-hashes --only-binary=:all: --no-deps -r /tmp/build/requirements-connector.lock
# The connector from its source (the .dockerignore sends nothing else), built with the locked setuptools.
COPY . /tmp/build/src/
RUN /airbyte/venv/bin/python -m pip install --no-index --no-deps --no-build-isolation /tmp/build/src \
 && /airbyte/venv/bin/python -m pip check \
 && /airbyte/venv/bin/python -m pip uninstall --yes --quiet pip \
 && /airbyte/venv/bin/source-personio spec >/dev/null

# ---- runtime: the base image plus the venv, nothing else (no sources, tests, sandbox or build tools)
FROM ${BASE_IMAGE}
ARG BASE_IMAGE
# The Airbyte base image ships the user `airbyte` (uid 1000); a plain Debian base does not.
RUN id -u airbyte >/dev/null 2>&1 \
 || useradd --uid 1000 --system --user-group --no-create-home --home-dir /airbyte airbyte; \
    mkdir -p /airbyte/integration_code && chown airbyte:airbyte /airbyte /airbyte/integration_code
COPY --from=builder /airbyte/venv /airbyte/venv
WORKDIR /airbyte/integration_code
ENV PATH="/airbyte/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    AIRBYTE_ENTRYPOINT="source-personio"
LABEL io.airbyte.name="airbyte/source-personio" \
      io.airbyte.version="0.1.0" \
      io.airbyte.base_image="${BASE_IMAGE}"
USER airbyte
ENTRYPOINT ["source-personio"]
