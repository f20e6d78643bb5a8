"""PyAirbyte installs this checkout (`pip_url`) as the distribution `airbyte-source-personio`, reports its
version, and loads a sync into DuckDB with as many records per stream as the sandbox holds.

PyAirbyte runs in a subprocess (its settings are read from the environment at import): offline (no
registry look-ups, no telemetry), its virtual environment under the test's temporary directory. The
install is `uv pip install <checkout>` pinned to requirements-connector.lock, so it needs PyPI (or uv's
cache) like `make setup` does. The counts are read back from the DuckDB file directly, not through
PyAirbyte, and compared with the sandbox's own lists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import duckdb
import pytest
from personio_sandbox.testing import Sandbox

ROOT = Path(__file__).resolve().parents[1]
# stream -> the sandbox list that is its ground truth (every record, as Personio serves them)
STREAMS = {
    "employees": "/v1/company/employees",
    "absence_types": "/v1/company/time-off-types",
    "absences": "/v1/company/time-offs",
    "document_categories": "/v1/company/document-categories",
    "attendances": "/v2/attendance-periods",
    "projects": "/v2/projects",
    "persons": "/v2/persons",
    "cost_centers": "/v2/cost-centers",
    "recruiting_candidates": "/v2/recruiting/candidates",
}

PYAIRBYTE_RUN = r"""
import json, sys
from pathlib import Path
import airbyte as ab

root, install_root, db_path, config, streams = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
source = ab.get_source(
    "source-personio",
    pip_url=f"{root} -c {root}/requirements-connector.lock",
    install_root=install_root,
    config=config,
)
source.check()
source.select_streams(streams)
result = source.read(cache=ab.DuckDBCache(db_path=db_path), force_full_refresh=True)
print("RESULT " + json.dumps({
    "version": source.connector_version,
    "executable": str(source.executor._get_connector_path()),
    "interpreter": str(source.executor.interpreter_path),
    "processed": result.processed_records,
}))
"""


@pytest.fixture(scope="module")
def sandbox():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-pyairbyte-{os.getpid()}.log")
    with Sandbox(employees=5, seed=1, rate_limits="off", log_path=log_path) as sb:
        yield sb


@pytest.fixture(scope="module")
def pyairbyte_sync(sandbox, tmp_path_factory):
    work = tmp_path_factory.mktemp("pyairbyte")
    env = {
        **os.environ,
        "AIRBYTE_OFFLINE_MODE": "1",
        "DO_NOT_TRACK": "1",
        "NO_LIVE_PROGRESS": "1",
        "AIRBYTE_PROJECT_DIR": str(work / "project"),
        "AIRBYTE_LOGGING_ROOT": str(work / "logs"),
        # PyAirbyte creates the connector's venv with `uv` (installed in the project's .venv)
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    config = sandbox.config(retry_backoff_seconds=0.2)
    db_path = work / "personio.duckdb"
    run = subprocess.run(
        [sys.executable, "-c", PYAIRBYTE_RUN, str(ROOT), str(work / "venvs"), str(db_path), json.dumps(config), json.dumps(sorted(STREAMS))],
        env=env, capture_output=True, text=True, timeout=900, cwd=work,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and lines, (run.stdout[-3000:], run.stderr[-3000:])
    return {**json.loads(lines[-1][len("RESULT "):]), "db_path": db_path, "stderr": run.stderr, "stdout": run.stdout, "config": config}


def test_pyairbyte_reports_the_installed_version(pyairbyte_sync):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert pyairbyte_sync["version"] == version


def test_the_installed_distribution_is_airbyte_source_personio_with_the_source_personio_script(pyairbyte_sync):
    interpreter = pyairbyte_sync["interpreter"]
    name = subprocess.run(
        [interpreter, "-c", "from importlib.metadata import distribution; d = distribution('airbyte-source-personio'); "
         "print(d.metadata['Name'], [e.name for e in d.entry_points if e.group == 'console_scripts'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert name == "airbyte-source-personio ['source-personio']"
    spec = subprocess.run([pyairbyte_sync["executable"], "spec"], capture_output=True, text=True, check=True, timeout=120).stdout
    messages = [json.loads(line) for line in spec.splitlines() if line.startswith("{")]
    assert [m["type"] for m in messages if m["type"] == "SPEC"] == ["SPEC"]


def test_the_duckdb_tables_hold_every_record_of_each_stream(pyairbyte_sync, sandbox):
    with duckdb.connect(str(pyairbyte_sync["db_path"]), read_only=True) as db:
        counts = {stream: db.execute(f'SELECT COUNT(*) FROM main."{stream}"').fetchone()[0] for stream in STREAMS}
        distinct = {stream: db.execute(f'SELECT COUNT(DISTINCT id) FROM main."{stream}"').fetchone()[0] for stream in STREAMS}
    truth = {stream: len(sandbox.dataset(path)) for stream, path in STREAMS.items()}
    assert all(truth.values()), truth
    assert counts == truth
    assert distinct == truth
    assert pyairbyte_sync["processed"] == sum(truth.values())


def test_no_secret_in_pyairbyte_output(pyairbyte_sync):
    secret = pyairbyte_sync["config"]["client_secret"]
    assert secret not in pyairbyte_sync["stdout"] and secret not in pyairbyte_sync["stderr"]
