"""`check` names missing permissions; the `source-personio` command handles bad input without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from airbyte_cdk.models import Status
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import BASE, CLIENT_SECRET, json_response, mock_auth, v1_list
from source_personio.access_check import CHECK_PROBES
from source_personio.source import SourcePersonio

import logging

LOGGER = logging.getLogger("test")


def mock_probes(http, forbidden=()):
    for version, path, params, *_ in CHECK_PROBES:
        request = HttpRequest(f"{BASE}{path}", query_params={k: str(v) for k, v in params.items()} or None)
        if path in forbidden:
            if version == "v1":
                body = {"success": False, "error": {"code": 403, "message": "Forbidden"}}
            else:
                body = {"errors": [{"title": "Forbidden", "detail": "Missing scope personio:projects:read"}]}
            http.get(request, json_response(body, 403))
        elif version == "v1":
            http.get(request, json_response(v1_list([])))
        else:
            http.get(request, json_response({"_data": [], "_meta": {"links": {}}}))


def test_check_succeeds_with_one_call_per_resource(config):
    with HttpMocker() as http:
        mock_auth(http, v1=True, v2=True)
        mock_probes(http)
        status = SourcePersonio(config=config).check(LOGGER, config)
    assert status.status == Status.SUCCEEDED


def test_check_names_every_missing_permission_and_scope(config):
    with HttpMocker() as http:
        mock_auth(http, v1=True, v2=True)
        mock_probes(http, forbidden=("/v1/company/time-offs", "/v2/projects"))
        status = SourcePersonio(config=config).check(LOGGER, config)
    # the credentials work: check succeeds and lists what is missing (those streams are skipped at read)
    assert status.status == Status.SUCCEEDED
    listed = status.message.split("cannot read", 1)[1]
    assert "absences: the API credential lacks access to absences" in listed
    assert "projects: the API credential lacks access to projects" in listed and "HTTP 403 on GET /v2/projects" in listed
    assert "personio:projects:read" in listed  # Personio's own error text is quoted
    assert "employees" not in listed


def test_check_with_wrong_credentials_says_so_without_the_secret(config):
    with HttpMocker() as http:
        from personio_mocks import v1_auth_request

        http.post(v1_auth_request(), json_response({"success": False, "error": {"code": 0, "message": "Wrong credentials"}}, 403))
        status = SourcePersonio(config=config).check(LOGGER, config)
    assert status.status == Status.FAILED
    assert "rejected the client_id/client_secret" in status.message
    assert CLIENT_SECRET not in status.message


# ---------------------------------------------------------------- the command line


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    code = "from source_personio.run import run; run()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def messages(stdout: str):
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_missing_config_file_is_a_clear_config_error_without_traceback(tmp_path):
    result = run_cli("discover", "--config", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert result.returncode != 0
    traces = [m for m in messages(result.stdout) if m["type"] == "TRACE"]
    assert traces and "does not exist" in traces[0]["trace"]["error"]["message"]
    assert traces[0]["trace"]["error"]["failure_type"] == "config_error"
    assert "Traceback" not in result.stdout + result.stderr


def test_invalid_config_json_is_a_clear_config_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    result = run_cli("read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "c.json"), cwd=tmp_path)
    assert result.returncode != 0
    assert "not valid JSON" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_check_with_plain_http_to_a_remote_host_reports_failed_status(tmp_path):
    config = {"client_id": "a", "client_secret": CLIENT_SECRET, "base_url": "http://personio.example.com"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = run_cli("check", "--config", str(tmp_path / "config.json"), cwd=tmp_path)
    status = [m for m in messages(result.stdout) if m["type"] == "CONNECTION_STATUS"]
    assert status[0]["connectionStatus"]["status"] == "FAILED"
    assert "plain http" in status[0]["connectionStatus"]["message"]
    assert CLIENT_SECRET not in result.stdout + result.stderr


def test_a_stray_manifest_in_the_working_directory_is_ignored(tmp_path):
    (tmp_path / "manifest.yaml").write_text("version: 0.0.1\nstreams: []\n")
    result = run_cli("spec", cwd=tmp_path)
    spec = [m for m in messages(result.stdout) if m["type"] == "SPEC"]
    assert "client_secret" in spec[0]["spec"]["connectionSpecification"]["properties"]


def test_config_given_on_the_command_line_is_used_to_build_streams(tmp_path):
    # discover needs no network; num_workers out of range can only be caught if --config was read
    config = {"client_id": "a", "client_secret": "b", "num_workers": 99}
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = run_cli("discover", "--config", str(tmp_path / "config.json"), cwd=tmp_path)
    assert result.returncode != 0
    assert "num_workers must be an integer between 1 and 32" in result.stdout


def test_spec_marks_the_secret_and_orders_the_form(tmp_path):
    result = run_cli("spec", cwd=tmp_path)
    spec = [m for m in messages(result.stdout) if m["type"] == "SPEC"][0]["spec"]["connectionSpecification"]
    assert spec["required"] == ["client_id", "client_secret"]
    assert spec["properties"]["client_secret"]["airbyte_secret"] is True
    orders = [p["order"] for p in spec["properties"].values()]
    assert len(set(orders)) == len(orders)
