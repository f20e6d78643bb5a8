"""Faults Personio really produces, injected by the sandbox: the read still completes and equals
ground truth, or fails with a message a user can act on."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from airbyte_cdk.models import FailureType, Status
from airbyte_cdk.test.entrypoint_wrapper import discover

from sandbox_helpers import personio_view, records_by_stream, run_read, without_nulls
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio


@pytest.fixture
def faults(sandbox):
    sandbox.reset_stats()
    yield sandbox
    sandbox.clear_faults()


def ids(records):
    return sorted(r["id"] for r in records)


def test_429s_without_retry_after_are_retried_and_nothing_is_lost(faults, config):
    faults.set_faults([{"kind": "429", "path": "/v1/company/employees", "count": 2}])
    output = run_read(config, ["employees"])
    assert not output.errors
    assert ids(records_by_stream(output)["employees"]) == sorted(e["attributes"]["id"]["value"] for e in faults.dataset("/v1/company/employees"))
    assert faults.stats()["statuses"].get("429", 0) + faults.stats()["statuses"].get(429, 0) >= 2


def test_5xx_mid_pagination_is_retried_and_nothing_is_lost(faults, config):
    faults.set_faults([{"kind": "status", "status": 502, "path": "/v2/attendance-periods", "after": 3, "count": 2}])
    output = run_read(config, ["attendances"])
    assert not output.errors
    assert ids(records_by_stream(output)["attendances"]) == ids(faults.dataset("/v2/attendance-periods"))


def test_expired_token_is_replaced_once_and_the_read_completes(faults, config):
    faults.set_faults([{"kind": "token_expiry", "path": "/v1/company/document-categories", "count": 1}])
    output = run_read(config, ["document_categories", "absence_types"])
    assert not output.errors
    assert len(records_by_stream(output)["document_categories"]) == len(faults.dataset("/v1/company/document-categories"))
    assert faults.stats()["requests"]["POST /v1/auth"] == 2


def test_a_v2_next_link_repeating_its_cursor_does_not_loop_forever(faults, config):
    faults.set_faults([{"kind": "repeat_cursor", "path": "/v2/attendance-periods", "after": 2, "count": 1}])
    output = run_read(config, ["attendances"])
    requests = faults.stats()["requests"]["GET /v2/attendance-periods"]
    assert requests <= len(faults.dataset("/v2/attendance-periods")) // 100 + 2
    assert not output.errors


@pytest.mark.parametrize("kind", ["null_objects", "empty_string_objects", "unknown_fields"])
def test_blank_or_unexpected_nested_objects_still_match_the_schema(faults, config, kind):
    faults.set_faults([{"kind": kind, "path": "/v1/company/employees"}, {"kind": kind, "path": "/v1/company/time-offs"}])
    output = run_read(config, ["employees", "absences"])
    assert not output.errors, [e.trace.error.message for e in output.errors]
    catalog = discover(SourcePersonio(config=config), config).catalog.catalog
    schemas = {s.name: s.json_schema for s in catalog.streams}
    records = records_by_stream(output)
    assert len(records["employees"]) == len(faults.dataset("/v1/company/employees"))
    for stream in ("employees", "absences"):
        validator = jsonschema.Draft7Validator(schemas[stream])
        for record in records[stream]:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{stream}: {errors[0].message}"


def test_check_names_the_missing_scope_of_a_restricted_credential(sandbox):
    sandbox.add_credential(
        {"client_id": "no-projects", "client_secret": "no-projects-secret", "scopes": ["personio:persons:read", "personio:absences:read", "personio:attendances:read"]}
    )
    clear_token_cache()
    config = sandbox.config(client_id="no-projects", client_secret="no-projects-secret", retry_backoff_seconds=0.2)
    status = SourcePersonio(config=config).check(__import__("logging").getLogger("t"), config)
    # issue 5: check succeeds and lists the missing scope; the read skips the stream with a warning
    assert status.status == Status.SUCCEEDED
    assert "personio:projects:read" in status.message
    assert "no-projects-secret" not in status.message
    output = run_read(config, ["projects", "absence_types"])
    assert not output.errors
    assert {r.record.stream for r in output.records} == {"absence_types"}
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    assert any(w.startswith("Skipped stream projects:") and "lacks access" in w and "personio:projects:read" in w for w in warnings)


def test_wrong_secret_fails_check_with_an_actionable_message(sandbox):
    clear_token_cache()
    config = sandbox.config(client_secret="wrong-secret-value")
    status = SourcePersonio(config=config).check(__import__("logging").getLogger("t"), config)
    assert status.status == Status.FAILED
    assert "rejected the client_id/client_secret" in status.message
    assert "wrong-secret-value" not in status.message


def test_cli_read_with_debug_logging_never_prints_secret_or_token(sandbox, tmp_path):
    config = sandbox.config(retry_backoff_seconds=0.2)
    (tmp_path / "config.json").write_text(json.dumps(config))
    catalog = {
        "streams": [
            {"stream": {"name": n, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}
            for n in ("document_categories", "projects")
        ]
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    result = subprocess.run(
        [sys.executable, "-c", "from source_personio.run import run; run()", "read", "--debug", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-2000:]
    assert '"type":"RECORD"' in out.replace(" ", "")
    assert "Making outbound API request" in out  # debug logging really was on
    assert config["client_secret"] not in out
    for token_word in ("papi-", "Bearer ey", "access_token\":\"p"):
        for line in out.splitlines():
            if token_word in line:
                assert "****" in line, line[:300]
