# Airbyte source connector for Personio: the image an Airbyte instance runs.
#
# Build it with `make image` (scripts/build_image.sh): the script builds wheels for the connector and
# its locked runtime dependencies (requirements-connector.lock) on the host into .build/wheelhouse/,
# and this Dockerfile installs them offline. The same Dockerfile serves the default base below and a
# local stand-in base (Debian bookworm + python3 + python3-venv) for machines without registry access.
#
#   docker run --rm airbyte/source-personio:dev spec
#   docker run --rm -v "$PWD/secrets:/data:ro" airbyte/source-personio:dev check --config /data/config.json

ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

# ---- builder: a virtual environment with the connector and its pinned dependencies, from wheels only
FROM ${BASE_IMAGE} AS builder
# Lets scripts/build_image.sh prune this stage's leftover image (the legacy builder keeps it).
LABEL io.airbyte.personio.stage="builder"
COPY .build/wheelhouse/ /tmp/wheelhouse/
# A venv works on both bases (Debian's system python is "externally managed"; the Airbyte base is not).
RUN python3 -m venv /airbyte/venv \
 && /airbyte/venv/bin/python -m pip install --no-cache-dir --no-index --find-links /tmp/wheelhouse \
        -r /tmp/wheelhouse/requirements.txt \
 && /airbyte/venv/bin/python -m pip uninstall --yes --quiet pip \
 && /airbyte/venv/bin/source-personio spec >/dev/null

# ---- runtime: the base image plus the venv, nothing else (no tests, no sandbox, no wheels)
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
