"""Integration tests run the connector in-process against one sandbox started for the session.

The shared builders of requests and answers: the session sandbox and its config, an in-process read of a
catalog (``run_read``), a run of the ``source-personio`` command line (``Cli``, ``write``,
``full_refresh_catalog``), a direct Personio call as a user's script would make it (``personio_get``), and the
comparison helpers (``records_by_stream``, ``final_states``, ``by_key``, ``without_nulls``).

Ground truth comes from the sandbox (``Sandbox.truth(resource)``: its data model; ``Sandbox.dataset(path)``:
a list as Personio serves it); the expected table rows of v1 records are stated in ``expected_rows.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional

import pytest

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from personio_sandbox.testing import Sandbox

from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

EMPLOYEES = int(os.environ.get("PERSONIO_IT_EMPLOYEES", "40"))
INCREMENTAL_STREAMS = ("employees", "absences", "attendances")


@pytest.fixture(scope="session")
def sandbox():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-sandbox-{os.getpid()}.log")
    with Sandbox(employees=EMPLOYEES, seed=1, rate_limits="off", log_path=log_path) as sb:
        yield sb


@pytest.fixture
def config(sandbox) -> Dict[str, Any]:
    clear_token_cache()
    return sandbox.config(retry_backoff_seconds=0.2)


def run_read(
    config: Mapping[str, Any],
    streams: Iterable[str],
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[AirbyteStateMessage]] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, sync_mode)
    catalog = builder.build()
    source = SourcePersonio(catalog=catalog, config=config, state=state)
    return read(source, config, catalog, state, expecting_exception=expecting_exception)


def records_by_stream(output: EntrypointOutput) -> Dict[str, List[Dict[str, Any]]]:
    out: Dict[str, List[Dict[str, Any]]] = {}
    for message in output.records:
        out.setdefault(message.record.stream, []).append(message.record.data)
    return out


def final_states(output: EntrypointOutput) -> List[AirbyteStateMessage]:
    """The last state message of every stream, as the platform would persist it."""
    last: Dict[str, AirbyteStateMessage] = {}
    for message in output.state_messages:
        last[message.state.stream.stream_descriptor.name] = message.state
    return list(last.values())


# ------------------------------------------------------------------ comparing records


def without_nulls(value: Any) -> Any:
    """The Airbyte message serializer of airbyte-cdk omits null-valued keys from record data (a
    destination reads a missing column as null), so comparisons ignore null-valued keys."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def by_key(records, *key):
    """Records keyed by their primary key (nulls dropped, as the CDK emits them); a repeated key fails."""
    out = {}
    for record in records:
        k = tuple(record[f] for f in key)
        assert k not in out, f"duplicate primary key {k}"
        out[k] = without_nulls(record)
    return out


# ------------------------------------------------------------------ the command line, as users run it

BIN = str(Path(sys.executable).with_name("source-personio"))


class Cli:
    """One run of the ``source-personio`` command line: its Airbyte messages by type."""

    def __init__(self, args: List[str], timeout: int = 900):
        done = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
        self.returncode = done.returncode
        self.stderr = done.stderr
        self.messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]

    def of(self, kind: str) -> List[Dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def errors(self) -> List[Dict[str, Any]]:
        return [m["trace"]["error"] for m in self.of("TRACE") if m["trace"]["type"] == "ERROR"]

    def logs(self, level: str) -> List[str]:
        return [m["log"]["message"] for m in self.of("LOG") if m["log"]["level"] == level]

    def records(self) -> Dict[str, List[Dict[str, Any]]]:
        out: Dict[str, List[Dict[str, Any]]] = {}
        for m in self.of("RECORD"):
            out.setdefault(m["record"]["stream"], []).append(m["record"]["data"])
        return out


def write(path: Path, value: Any) -> str:
    """Write ``value`` as JSON (a config, catalog or state file) and return its path."""
    path.write_text(json.dumps(value))
    return str(path)


def full_refresh_catalog(streams: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"streams": [{"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in streams]}


# ------------------------------------------------------------------ Personio called directly


def _v1_token(sandbox) -> str:
    body = json.dumps({"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}).encode()
    request = urllib.request.Request(sandbox.url + "/v1/auth", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["data"]["token"]


def personio_get(sandbox, path: str) -> Any:
    """GET a v1 path with the sandbox's default credential and return the body's ``data`` (for lists the
    sandbox has no dataset/truth endpoint for)."""
    request = urllib.request.Request(sandbox.url + path, headers={"Authorization": f"Bearer {_v1_token(sandbox)}"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["data"]


def personio_status(sandbox, path: str) -> int:
    """The HTTP status the sandbox answers the default credential on a v1 path."""
    request = urllib.request.Request(sandbox.url + path, headers={"Authorization": f"Bearer {_v1_token(sandbox)}"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
