"""Streams a credential, tenant or catalog can no longer read, through the command line: a vanished
per-report stream is skipped with a warning, a stream name this connector never offered stays a config error,
every selected stream unreadable is one config error, and check tells wrong credentials from a missing right."""

from __future__ import annotations

import os
import tempfile

import pytest

from personio_sandbox.testing import Sandbox

from sandbox_helpers import Cli, full_refresh_catalog, write


def stream(name):
    return {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]}


@pytest.fixture(scope="module")
def sandboxes():
    log = os.path.join(tempfile.gettempdir(), f"source-personio-it-unreadable-{os.getpid()}.log")
    with Sandbox(employees=4, seed=2, rate_limits="off", log_path=log) as full, \
            Sandbox(employees=4, seed=2, rate_limits="off", tenant="small_business", log_path=log + ".sb") as small:
        yield {"full": full, "small_business": small}


def read(tmp_path, sb, names, **config):
    config_path = write(tmp_path / "config.json", sb.config(retry_backoff_seconds=0.1, **config))
    return Cli(["read", "--config", config_path, "--catalog", write(tmp_path / "catalog.json", full_refresh_catalog([stream(n) for n in names]))])


def test_a_deleted_custom_reports_stream_is_skipped_with_a_warning_and_the_others_sync(sandboxes, tmp_path):
    cli = read(tmp_path, sandboxes["full"], ["custom_report_deleted_last_year", "document_categories"])
    assert cli.returncode == 0 and not cli.errors, [e["message"] for e in cli.errors]
    warnings = [w for w in cli.logs("WARN") if w.startswith("Skipped stream custom_report_deleted_last_year:")]
    assert len(warnings) == 1 and "no longer offers it" in warnings[0] and "deleted or archived" in warnings[0]
    assert len(cli.records()["document_categories"]) == len(sandboxes["full"].truth("document_categories"))


def test_report_streams_switched_off_are_skipped_with_a_warning_saying_so(sandboxes, tmp_path):
    cli = read(tmp_path, sandboxes["full"], ["custom_report_headcount_today", "document_categories"], custom_report_streams=False)
    assert cli.returncode == 0 and not cli.errors
    assert any("custom_report_streams is switched off" in w for w in cli.logs("WARN"))
    assert cli.records()["document_categories"]


def test_a_stream_name_no_version_offered_stays_a_config_error(sandboxes, tmp_path):
    cli = read(tmp_path, sandboxes["full"], ["payroll", "document_categories"])
    assert cli.returncode == 1
    assert [e["failure_type"] for e in cli.errors] == ["config_error"] and "payroll" in cli.errors[0]["message"]


def test_only_vanished_report_streams_selected_is_a_config_error(sandboxes, tmp_path):
    cli = read(tmp_path, sandboxes["full"], ["custom_report_gone"])
    assert cli.returncode == 1 and [e["failure_type"] for e in cli.errors] == ["config_error"]
    assert "custom_report_gone" in cli.errors[0]["message"]


def test_every_selected_stream_unreadable_fails_the_read_with_one_config_error(sandboxes, tmp_path):
    cli = read(tmp_path, sandboxes["small_business"], ["persons", "recruiting_jobs", "legal_entities"])
    assert cli.returncode == 1
    assert len(cli.errors) == 1 and cli.errors[0]["failure_type"] == "config_error"
    message = cli.errors[0]["message"]
    assert "persons" in message and "Recruiting module" in message and "legal entities feature" in message


def test_check_fails_for_wrong_credentials_but_not_for_the_missing_persons_right(sandboxes, tmp_path):
    sb = sandboxes["small_business"]
    wrong = Cli(["check", "--config", write(tmp_path / "wrong.json", sb.config(client_secret="not-the-secret"))])
    status = [m["connectionStatus"] for m in wrong.of("CONNECTION_STATUS")][0]
    assert status["status"] == "FAILED" and "rejected the client_id/client_secret" in status["message"]
    assert "not-the-secret" not in status["message"]
    right = Cli(["check", "--config", write(tmp_path / "right.json", sb.config())])
    status = [m["connectionStatus"] for m in right.of("CONNECTION_STATUS")][0]
    assert status["status"] == "SUCCEEDED"
    assert "persons, employments: the API credential lacks the Persons right" in status["message"]
    assert "HTTP 401 on GET /v2/persons" in status["message"]
