"""Bad input through the real command line: what a user sees for each mistake.

Every case gives one clear, human message with the Airbyte failure type a platform acts on
(``config_error`` = the user must fix something) and a non-zero exit; never a Python traceback
as the message, and no traceback printed outside the TRACE message (whose ``stack_trace`` field
may keep one, as the protocol allows).

Exit codes, by Airbyte convention: ``check`` reports a bad configuration as a
CONNECTION_STATUS FAILED message and exits 0 (the platform reads the status, not the code);
``spec``/``discover``/``read`` exit 1 with a TRACE error message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from personio_sandbox.testing import Sandbox

BIN = str(Path(sys.executable).with_name("source-personio"))
RESTRICTED = {
    "client_id": "no-projects-client",
    "client_secret": "no-projects-secret-7c1f",
    "scopes": ["personio:persons:read", "personio:absences:read", "personio:attendances:read"],
}


@pytest.fixture(scope="module")
def bsb():
    with Sandbox(employees=30, seed=5, rate_limits="off", credentials=[RESTRICTED]) as sb:
        yield sb


class Cli:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.messages: List[Dict[str, Any]] = []
        self.non_json: List[str] = []
        for line in stdout.splitlines():
            try:
                self.messages.append(json.loads(line))
            except ValueError:
                self.non_json.append(line)

    @property
    def errors(self) -> List[Dict[str, Any]]:
        return [m["trace"]["error"] for m in self.messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]

    @property
    def status(self) -> Optional[Dict[str, Any]]:
        statuses = [m["connectionStatus"] for m in self.messages if m["type"] == "CONNECTION_STATUS"]
        return statuses[-1] if statuses else None

    def logs(self, *levels: str) -> List[str]:
        return [m["log"]["message"] for m in self.messages if m["type"] == "LOG" and m["log"]["level"] in levels]

    @property
    def records(self) -> List[Dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD"]


def catalog(*streams: str) -> Dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
            for s in streams
        ]
    }


def cli(tmp_path: Path, command: str, config: Any = None, raw_config: Optional[str] = None, streams=None, state: Any = None, raw_state: Optional[str] = None) -> Cli:
    args = [BIN, command]
    if config is not None or raw_config is not None:
        (tmp_path / "config.json").write_text(raw_config if raw_config is not None else json.dumps(config))
        args += ["--config", str(tmp_path / "config.json")]
    if streams is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog(*streams)))
        args += ["--catalog", str(tmp_path / "catalog.json")]
    if state is not None or raw_state is not None:
        (tmp_path / "state.json").write_text(raw_state if raw_state is not None else json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return Cli(result.returncode, result.stdout, result.stderr)


def assert_no_traceback_outside_the_trace(out: Cli) -> None:
    assert "Traceback (most recent call last)" not in out.stderr, out.stderr[-1500:]
    assert not out.non_json, out.non_json[:3]
    for message in out.messages:
        if message["type"] == "TRACE":
            assert "Traceback" not in message["trace"].get("error", {}).get("message", "")
            continue
        assert "Traceback (most recent call last)" not in json.dumps(message), json.dumps(message)[:1500]


def assert_one_config_error(out: Cli, *words: str) -> str:
    assert out.returncode == 1, (out.returncode, out.stdout[-1500:])
    assert len(out.errors) == 1, [e["message"] for e in out.errors]
    error = out.errors[0]
    assert error["failure_type"] == "config_error", error
    for word in words:
        assert word in error["message"], error["message"]
    assert_no_traceback_outside_the_trace(out)
    return error["message"]


def assert_check_failed(out: Cli, *words: str) -> str:
    assert out.returncode == 0, out.stdout[-1500:]
    assert out.status and out.status["status"] == "FAILED", out.stdout[-1500:]
    for word in words:
        assert word in out.status["message"], out.status["message"]
    assert_no_traceback_outside_the_trace(out)
    return out.status["message"]


# ------------------------------------------------------------------ config file problems


@pytest.mark.timeout(120)
def test_a_config_file_that_is_not_json_is_named_as_such(tmp_path):
    out = cli(tmp_path, "read", raw_config='{"client_id": "x", ', streams=["projects"])
    assert_one_config_error(out, "config file", "not valid JSON")
    assert_check_failed(cli(tmp_path, "check", raw_config="{oops"), "not valid JSON")
    assert_one_config_error(cli(tmp_path, "discover", raw_config="[1, 2]"), "must hold a JSON object")


@pytest.mark.timeout(120)
def test_a_missing_config_file_is_named(tmp_path):
    out = Cli(*_run([BIN, "discover", "--config", str(tmp_path / "nope.json")], tmp_path))
    assert_one_config_error(out, "does not exist")


def _run(args, cwd):
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=cwd)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.timeout(120)
def test_a_missing_client_secret_names_the_field(bsb, tmp_path):
    config = {k: v for k, v in bsb.config().items() if k != "client_secret"}
    assert_check_failed(cli(tmp_path, "check", config), "client_secret")
    assert_one_config_error(cli(tmp_path, "read", config, streams=["projects"]), "client_secret")
    assert_one_config_error(cli(tmp_path, "discover", config), "client_secret")


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "field,value,words",
    [
        ("num_workers", "four", ["num_workers", "integer"]),
        ("lookback_window_days", -3, ["lookback_window_days"]),
        ("base_url", 123, ["base_url", "string"]),
        ("client_id", 42, ["client_id", "string"]),
        ("retry_backoff_seconds", "soon", ["retry_backoff_seconds"]),
    ],
)
def test_a_wrongly_typed_field_is_named(bsb, tmp_path, field, value, words):
    config = dict(bsb.config(), **{field: value})
    assert_check_failed(cli(tmp_path, "check", config), *words)
    assert_one_config_error(cli(tmp_path, "read", config, streams=["projects"]), *words)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("start_date", ["yesterday", "2024-13-45", "01.02.2024"])
def test_an_unparsable_start_date_is_rejected_before_any_request(bsb, tmp_path, start_date):
    bsb.reset_stats()
    config = bsb.config(start_date=start_date)
    assert_one_config_error(cli(tmp_path, "read", config, streams=["absences"]), "start_date", "YYYY-MM-DD")
    assert_check_failed(cli(tmp_path, "check", config), "start_date")
    assert sum(bsb.stats()["requests"].values()) == 0


@pytest.mark.timeout(120)
def test_plain_http_to_a_non_loopback_host_is_refused_without_sending_credentials(bsb, tmp_path):
    config = bsb.config(base_url="http://personio.example.com")
    message = assert_check_failed(cli(tmp_path, "check", config), "plain http", "https")
    assert bsb.client_secret not in message
    assert_one_config_error(cli(tmp_path, "read", config, streams=["projects"]), "plain http")


# ------------------------------------------------------------------ credentials


@pytest.mark.timeout(120)
def test_wrong_credentials_fail_check_and_read_with_an_actionable_message(bsb, tmp_path):
    config = bsb.config(client_secret="definitely-wrong-secret-31", retry_backoff_seconds=0.05)
    message = assert_check_failed(cli(tmp_path, "check", config), "rejected the client_id/client_secret")
    assert "definitely-wrong-secret-31" not in message
    out = cli(tmp_path, "read", config, streams=["employees", "absences"])
    assert out.returncode == 1
    assert out.errors and all(e["failure_type"] == "config_error" for e in out.errors)
    assert "rejected the client_id/client_secret" in out.errors[0]["message"]
    assert "definitely-wrong-secret-31" not in out.stdout + out.stderr
    assert not out.records
    assert_no_traceback_outside_the_trace(out)


@pytest.mark.timeout(120)
def test_a_credential_without_a_scope_is_told_which_scope_is_missing(bsb, tmp_path):
    """A revoked v2 scope: check passes for the rest but names the scope; the stream that needs
    it is skipped with a warning naming the scope (so the other streams still sync)."""
    config = bsb.config(client_id=RESTRICTED["client_id"], client_secret=RESTRICTED["client_secret"], retry_backoff_seconds=0.05, start_date="2026-10-25")
    check = cli(tmp_path, "check", config)
    assert check.status and "personio:projects:read" in check.status["message"]
    out = cli(tmp_path, "read", config, streams=["projects", "attendances"])
    assert any("personio:projects:read" in m and "projects" in m for m in out.logs("WARN", "ERROR") + [e["message"] for e in out.errors])
    assert not [r for r in out.records if r["stream"] == "projects"]
    assert [r for r in out.records if r["stream"] == "attendances"], "streams the credential may read still sync"
    assert RESTRICTED["client_secret"] not in out.stdout + out.stderr + check.stdout
    assert_no_traceback_outside_the_trace(out)


@pytest.mark.timeout(180)
def test_a_revoked_scope_for_every_selected_stream_fails_the_read_naming_the_scope(bsb, tmp_path):
    """When nothing the user selected may be read, skipping would look like a successful sync of
    nothing: the read fails with one config error that names the missing scope."""
    config = bsb.config(client_id=RESTRICTED["client_id"], client_secret=RESTRICTED["client_secret"], retry_backoff_seconds=0.05)
    out = cli(tmp_path, "read", config, streams=["projects"])
    message = assert_one_config_error(out, "personio:projects:read", "projects")
    assert not out.records
    assert RESTRICTED["client_secret"] not in message + out.stdout + out.stderr


# ------------------------------------------------------------------ catalog and state


@pytest.mark.timeout(120)
def test_a_catalog_naming_an_unknown_stream_fails_instead_of_silently_reading_nothing(bsb, tmp_path):
    bsb.reset_stats()
    out = cli(tmp_path, "read", bsb.config(), streams=["projects", "salaries_of_everyone"])
    assert_one_config_error(out, "salaries_of_everyone", "does not offer")
    assert "projects" not in out.errors[0]["message"]


@pytest.mark.timeout(120)
def test_a_state_file_that_is_not_json_is_named(bsb, tmp_path):
    out = cli(tmp_path, "read", bsb.config(), streams=["employees"], raw_state="{garbage")
    assert_one_config_error(out, "state file", "not valid JSON")


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "state,words",
    [
        ({"cursor": {"someone_elses": 17}, "last_sync": "x"}, ["not Airbyte state"]),
        ([1, 2, 3], ["not Airbyte state"]),
        (
            [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "employees"}, "stream_state": {"last_modified_at": "last tuesday"}}}],
            ["saved state", "Reset"],
        ),
    ],
    ids=["legacy-dict-of-another-connector", "list-of-junk", "unparsable-cursor-value"],
)
def test_corrupt_or_foreign_state_asks_for_a_reset(bsb, tmp_path, state, words):
    out = cli(tmp_path, "read", bsb.config(), streams=["employees"], state=state)
    assert_one_config_error(out, *words)


@pytest.mark.timeout(120)
def test_state_of_another_connectors_streams_is_ignored_and_the_read_is_complete(bsb, tmp_path):
    """Well-formed state for streams (or cursor fields) this connector does not have cannot do
    harm: it is ignored and the stream is read from start_date."""
    state = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "tickets"}, "stream_state": {"updated": 17}}},
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "employees"}, "stream_state": {"sequence_no": 9}}},
    ]
    out = cli(tmp_path, "read", bsb.config(), streams=["employees"], state=state)
    assert out.returncode == 0, out.stdout[-1500:]
    ids = {r["data"]["id"] for r in out.records}
    assert ids == {e["attributes"]["id"]["value"] for e in bsb.dataset("/v1/company/employees")}
