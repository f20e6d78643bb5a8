"""A credential without some scopes: the streams it may not read are skipped with a warning naming
the missing scope, everything else syncs, and the sync ends successfully; check succeeds and names the
missing scope, and fails with an actionable message for a wrong secret."""

from __future__ import annotations

import logging
import os
import tempfile

import pytest

from airbyte_cdk.models import Level, Status, SyncMode
from personio_sandbox.testing import Sandbox

from sandbox_helpers import records_by_stream, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

ALL_SCOPES = [
    "personio:persons:read",
    "personio:employments:read",
    "personio:absences:read",
    "personio:attendances:read",
    "personio:projects:read",
    "personio:org-units:read",
    "personio:legal-entities:read",
    "personio:cost-centers:read",
    "personio:workplaces:read",
    "personio:compensations:read",
    "personio:recruiting:read",
]
RECRUITING = ["recruiting_candidates", "recruiting_applications", "recruiting_application_stage_transitions", "recruiting_jobs", "recruiting_categories"]
READABLE = ["persons", "legal_entities", "cost_centers", "workplaces", "employee_attributes", "absence_types"]
# only these employee attributes may be read by the restricted credential
PERMITTED_ATTRIBUTES = ["first_name", "last_name", "email", "department", "dynamic_101", "dynamic_106"]


@pytest.fixture(scope="module")
def sb():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-permissions-{os.getpid()}.log")
    with Sandbox(employees=6, seed=3, rate_limits="off", log_path=log_path) as sandbox:
        sandbox.add_credential(
            {
                "client_id": "no-recruiting",
                "client_secret": "no-recruiting-secret",
                "scopes": [s for s in ALL_SCOPES if s != "personio:recruiting:read"],
                "attributes": PERMITTED_ATTRIBUTES,
            }
        )
        yield sandbox


@pytest.fixture
def restricted(sb):
    clear_token_cache()
    return sb.config(client_id="no-recruiting", client_secret="no-recruiting-secret", retry_backoff_seconds=0.2)


def test_sync_skips_streams_without_scope_names_the_scope_and_reads_everything_else(sb, restricted):
    output = run_read(restricted, READABLE + RECRUITING, SyncMode.full_refresh)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    records = records_by_stream(output)
    for stream in READABLE:
        assert records.get(stream), f"{stream} should have been read"
    assert not any(records.get(stream) for stream in RECRUITING)

    warnings = [m.log.message for m in output.logs if m.log.level == Level.WARN]
    for stream in RECRUITING:
        named = [w for w in warnings if w.startswith(f"Skipped stream {stream}:")]
        # exactly one warning per skipped stream, naming what is missing
        assert len(named) == 1, named
        assert "personio:recruiting:read" in named[0]
    infos = [m.log.message for m in output.logs if m.log.level == Level.INFO]
    summary = [i for i in infos if i.startswith("Skipped 5 stream(s)")]
    assert summary and all(stream in summary[0] for stream in RECRUITING)
    # the refused requests themselves are no further warnings, and no errors with tracebacks
    assert not [w for w in warnings if "failed with status code '403'" in w]
    assert not [m for m in output.logs if m.log.level == Level.ERROR and "recruiting" in m.log.message]


def test_sync_still_fails_when_a_stream_fails_for_another_reason(sb, restricted):
    sb.set_faults([{"kind": "status", "status": 500, "path": "/v2/legal-entities"}])
    try:
        output = run_read(restricted, ["legal_entities", "recruiting_jobs"], SyncMode.full_refresh, expecting_exception=True)
    finally:
        sb.clear_faults()
    assert any("legal_entities" in e.trace.error.message or "5xx" in e.trace.error.message for e in output.errors)


def test_check_succeeds_and_lists_the_missing_scope(restricted):
    status = SourcePersonio(config=restricted).check(logging.getLogger("test"), restricted)
    assert status.status == Status.SUCCEEDED, status.message
    assert "personio:recruiting:read" in status.message
    assert "no-recruiting-secret" not in status.message


def test_discover_shows_only_the_attribute_columns_the_credential_may_read(sb, restricted):
    from airbyte_cdk.test.entrypoint_wrapper import discover

    import jsonschema

    catalog = discover(SourcePersonio(config=restricted), restricted).catalog.catalog
    schema = next(s for s in catalog.streams if s.name == "employees").json_schema
    # the permitted attributes, plus the primary key and cursor columns that are always there
    assert set(schema["properties"]) == set(PERMITTED_ATTRIBUTES) | {"id", "last_modified_at"}
    clear_token_cache()
    output = run_read(restricted, ["employees"])
    assert not output.errors
    employees = records_by_stream(output)["employees"]
    assert employees
    for record in employees:
        assert set(record) <= set(schema["properties"]), sorted(set(record) - set(schema["properties"]))
        assert not list(jsonschema.Draft7Validator(schema).iter_errors(record))


# ------------------------------------------------------------------ check on the session sandbox


def test_check_names_the_missing_scope_of_a_restricted_credential(sandbox):
    sandbox.add_credential(
        {"client_id": "no-projects", "client_secret": "no-projects-secret", "scopes": ["personio:persons:read", "personio:absences:read", "personio:attendances:read"]}
    )
    clear_token_cache()
    config = sandbox.config(client_id="no-projects", client_secret="no-projects-secret", retry_backoff_seconds=0.2)
    status = SourcePersonio(config=config).check(__import__("logging").getLogger("t"), config)
    # check succeeds and lists the missing scope; the read skips the stream with a warning
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
