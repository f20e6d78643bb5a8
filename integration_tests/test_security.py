"""Secrets never leak: every command, at debug level, through the real command line.

spec, check, discover, a read of every stream, a check with a wrong secret and a read under
faults (expired token, 5xx, 429 -- the paths that log requests and errors) all run with
``--debug``; stdout and stderr together must contain neither client secret nor any access token
the sandbox issued during the test (``GET /_sandbox/tokens`` lists them), nor an unmasked
``papi-`` token.

Other security properties live elsewhere: v2 next links to foreign hosts and redirects are unit
tests (unit_tests/test_security_links.py); the container runs as non-root
(integration_tests/test_container.py); dependency audit: docs/security.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from personio_sandbox.testing import Sandbox

BIN = str(Path(sys.executable).with_name("source-personio"))
SECRET = "SeCrEt-leakcheck-d41d8cd98f00b204"
WRONG_SECRET = "WrOnG-leakcheck-9e107d9d372bb682"
CLIENT_ID = "security-test-client"
TOKEN = re.compile(r"papi-[0-9a-zA-Z_-]{6,}")


@pytest.fixture(scope="module")
def ssb():
    credential = {"client_id": CLIENT_ID, "client_secret": SECRET}
    with Sandbox(employees=30, seed=13, rate_limits="off", credentials=[credential]) as sb:
        yield sb


def run(tmp_path: Path, *args: str) -> str:
    result = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    return result.stdout + "\n" + result.stderr


def issued_tokens(sb) -> List[str]:
    return list(sb._call("GET", "/_sandbox/tokens")["tokens"])


def assert_no_secret(output: str, sb, *secrets: str) -> None:
    tokens = issued_tokens(sb)
    assert tokens, "the sandbox issued no token: nothing was really tested"
    for secret in (*secrets, *tokens):
        assert secret not in output, f"secret or token {secret[:9]}... appears in the output"
    unmasked = TOKEN.findall(output)
    assert not unmasked, f"unmasked token-like strings: {unmasked[:3]}"


@pytest.mark.timeout(900)
def test_no_command_prints_the_secret_or_a_token_even_at_debug_level(ssb, tmp_path):
    config = ssb.config(client_id=CLIENT_ID, client_secret=SECRET, start_date="2026-10-25", retry_backoff_seconds=0.05)
    (tmp_path / "config.json").write_text(json.dumps(config))
    outputs = [run(tmp_path, "spec", "--debug"), run(tmp_path, "check", "--debug", "--config", "config.json")]
    assert '"status":"SUCCEEDED"' in outputs[-1].replace(" ", ""), outputs[-1][-2000:]
    discovered = run(tmp_path, "discover", "--debug", "--config", "config.json")
    outputs.append(discovered)
    catalog_message = next(json.loads(l) for l in discovered.splitlines() if l.startswith("{") and '"CATALOG"' in l)
    streams = catalog_message["catalog"]["streams"]
    assert len(streams) >= 9
    configured = {
        "streams": [
            {"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in streams
        ]
    }
    (tmp_path / "catalog.json").write_text(json.dumps(configured))
    read_all = run(tmp_path, "read", "--debug", "--config", "config.json", "--catalog", "catalog.json")
    outputs.append(read_all)
    assert '"type":"RECORD"' in read_all.replace(" ", "")
    assert "Making outbound API request" in read_all  # debug logging of requests really was on
    assert "Authorization" in read_all  # request headers are logged ... and must be masked

    # wrong secret: check and read
    (tmp_path / "wrong.json").write_text(json.dumps(dict(config, client_secret=WRONG_SECRET)))
    outputs.append(run(tmp_path, "check", "--debug", "--config", "wrong.json"))
    outputs.append(run(tmp_path, "read", "--debug", "--config", "wrong.json", "--catalog", "catalog.json"))

    # faults: an expired token (re-minted), server errors and rate limits, all logged at debug level
    ssb.set_faults(
        [
            {"kind": "token_expiry", "path": "/v1/company/employees", "after": 1, "count": 1},
            {"kind": "token_expiry", "path": "/v2/attendance-periods", "after": 1, "count": 1},
            {"kind": "status", "status": 503, "path": "/v1/company/time-offs", "count": 2},
            {"kind": "429", "path": "/v2/projects", "count": 2},
            {"kind": "status", "status": 500, "path": "/v1/company/document-categories"},
        ]
    )
    try:
        subset = {"streams": [c for c in configured["streams"] if c["stream"]["name"] in ("employees", "attendances", "absences", "projects", "document_categories")]}
        (tmp_path / "subset.json").write_text(json.dumps(subset))
        faulty = run(tmp_path, "read", "--debug", "--config", "config.json", "--catalog", "subset.json")
    finally:
        ssb.clear_faults()
    assert "503" in faulty and "429" in faulty
    outputs.append(faulty)

    everything = "\n".join(outputs)
    assert_no_secret(everything, ssb, SECRET, WRONG_SECRET)
    assert len(issued_tokens(ssb)) >= 4  # v1 + v2 tokens, re-minted after expiry


# ------------------------------------------------------------------ a read through the module entry point, at debug level


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
