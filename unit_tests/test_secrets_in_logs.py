"""No token and no client secret in any line the connector prints, at any log level (DEBUG included), during
check, discover and read against the bundled sandbox -- including the lines written while a token is minted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

STREAMS = ["employees", "absences", "persons", "employments", "document_categories"]


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory):
    from personio_sandbox.testing import Sandbox

    work = tmp_path_factory.mktemp("secrets")
    with Sandbox(employees=4, seed=3, rate_limits="off") as sandbox:
        config = sandbox.config(retry_backoff_seconds=0.05, custom_report_streams=False, start_date="2024-01-01")
        (work / "config.json").write_text(json.dumps(config))

        def run(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "source_personio.run", *args, "--config", str(work / "config.json"), "--debug"],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=work,
            )
            return done.stdout + "\n" + done.stderr

        outputs = {"check": run("check"), "discover": run("discover")}
        catalog = [json.loads(line) for line in outputs["discover"].splitlines() if line.startswith('{"type": "CATALOG"') or line.startswith('{"type":"CATALOG"')]
        assert catalog, "discover printed no catalog"
        streams = [s for s in catalog[0]["catalog"]["streams"] if s["name"] in STREAMS]
        assert {s["name"] for s in streams} == set(STREAMS)
        configured = {
            "streams": [
                {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in streams
            ]
        }
        (work / "catalog.json").write_text(json.dumps(configured))
        outputs["read"] = run("read", "--catalog", str(work / "catalog.json"))
        tokens = sandbox.issued_tokens()
        secret = config["client_secret"]
    return outputs, tokens, secret


def test_the_runs_minted_tokens_and_read_records(run_outputs):
    outputs, tokens, _ = run_outputs
    assert len(tokens) >= 2  # v1 and v2 tokens were minted (each command is its own process)
    assert '"type": "RECORD"' in outputs["read"] or '"type":"RECORD"' in outputs["read"]
    assert "DEBUG" in outputs["read"]  # the debug level really was on
    # the CDK's DEBUG line of each request prints its headers, Authorization included: the line a token would be in
    assert "Making outbound API request" in outputs["read"] and "Authorization" in outputs["read"]


@pytest.mark.parametrize("command", ["check", "discover", "read"])
def test_no_token_or_client_secret_in_any_printed_line(run_outputs, command):
    outputs, tokens, secret = run_outputs
    leaked = [
        line[:200]
        for line in outputs[command].splitlines()
        if secret in line or any(token in line for token in tokens)
    ]
    assert leaked == []
