"""`make demo` (scripts/demo.py): one read, loaded into DuckDB as it streams, nothing lost.

The end-to-end tests run the demo against a tiny sandbox through a wrapper executable that logs every
`source-personio` invocation, so a second sync (the old demo read everything twice) cannot go unnoticed.
Ground truth comes from the sandbox's data model (`/_sandbox/dataset`, `/_sandbox/stats`).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import stat
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_demo():
    spec = importlib.util.spec_from_file_location("demo_script", ROOT / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


@pytest.fixture(scope="module")
def tiny_sandbox():
    from personio_sandbox.testing import Sandbox

    with Sandbox(employees=3, seed=7, rate_limits=demo.DEMO_RATE_LIMITS) as sandbox:
        yield sandbox


@pytest.fixture
def counted_exe(tmp_path):
    """A `source-personio` that appends its command (spec, check, discover, read) to a log, then runs the real one."""
    real = demo.find_executable()
    log = tmp_path / "invocations.log"
    wrapper = tmp_path / "source-personio"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper, log


def _table_rows(db_path: Path) -> dict:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def _value(employee: dict, key: str):
    return employee["attributes"][key]["value"]


@pytest.mark.timeout(300)
def test_demo_reads_once_and_duckdb_holds_every_record_read(tiny_sandbox, counted_exe, tmp_path):
    exe, invocations = counted_exe
    workdir = tmp_path / "run"
    workdir.mkdir()
    db_path, state_path = tmp_path / "personio.duckdb", tmp_path / "state.json"
    lines = []
    result = demo.run_demo(exe, tiny_sandbox.config(), workdir, db_path=db_path, sandbox=tiny_sandbox,
                           rate_limits=demo.DEMO_RATE_LIMITS, out=lines.append, state_path=state_path)
    requests = tiny_sandbox.stats()["requests"]  # the demo resets the stats before its read

    # one sync: the connector ran each command once, and one request per person for employments
    assert invocations.read_text().split() == ["spec", "check", "discover", "read"]
    persons = tiny_sandbox.dataset("/v2/persons")
    assert requests["GET /v2/persons/{person_id}/employments"] == len(persons)

    # every stream is a table holding exactly the records read, and those are the sandbox's records
    rows = _table_rows(db_path)
    assert result.read.counts, "the read returned no streams"
    assert {s: rows.get(s) for s in result.read.counts} == result.read.counts
    assert not result.lost
    employees = tiny_sandbox.dataset("/v1/company/employees")
    attendance = tiny_sandbox.dataset("/v2/attendance-periods")
    assert len(attendance) > 100, "the tiny company should still need several attendance pages"
    assert result.read.counts["employees"] == len(employees)
    assert result.read.counts["persons"] == len(persons)
    assert result.read.counts["attendances"] == len(attendance)
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        assert sorted(r[0] for r in con.execute("select id from employees").fetchall()) == sorted(
            _value(e, "id") for e in employees
        )
        assert {r[0] for r in con.execute("select id from attendances").fetchall()} == {a["id"] for a in attendance}
        saved = {r[0]: json.loads(r[1]) for r in con.execute("select stream_name, state from _airbyte_state").fetchall()}
    finally:
        con.close()

    # the state of the read is saved: one per stream, the employees cursor at the newest change
    assert set(saved) == set(result.read.counts)
    cursor = saved["employees"]["stream"]["stream_state"]["last_modified_at"]
    newest = max(dt.datetime.fromisoformat(_value(e, "last_modified_at")) for e in employees)
    assert dt.datetime.fromisoformat(cursor) == newest
    in_file = {m["state"]["stream"]["stream_descriptor"]["name"]: m["state"] for m in json.loads(state_path.read_text())}
    assert in_file == saved

    # the output says how long each step took and how the read was paced
    assert list(result.timings) == ["spec", "check", "discover", "read+load", "summary"]
    for step in result.timings:
        assert any(line.startswith(f"  {step} ") and line.rstrip().endswith("s)") for line in lines), step
    pacing = next(line for line in lines if line.startswith("  pacing"))
    http_429 = tiny_sandbox.stats()["statuses"].get("429", 0)
    assert f"{sum(requests.values()):,} requests, {http_429} x 429" in pacing


def test_demo_with_credentials_in_env_uses_them_and_starts_no_sandbox(tmp_path, monkeypatch, capsys):
    import personio_sandbox.testing

    def no_sandbox(*args, **kwargs):
        raise AssertionError("the demo started a sandbox although credentials were given")

    calls = []

    def fake_run_demo(exe, config, workdir, db_path, sandbox=None, **kwargs):
        calls.append({"config": config, "sandbox": sandbox, "config_dir_private": workdir.stat().st_mode & 0o077 == 0})
        return demo.DemoResult(read=demo.ReadResult(counts={"employees": 2}), rows={"employees": 2},
                               columns={"employees": 41}, timings={"spec": 1.0})

    monkeypatch.setattr(personio_sandbox.testing, "Sandbox", no_sandbox)
    monkeypatch.setattr(demo, "run_demo", fake_run_demo)
    monkeypatch.setattr(demo, "ensure_bytecode", lambda exe: None)
    monkeypatch.setattr(demo, "DEMO_DIR", tmp_path / ".demo")
    monkeypatch.setattr(demo, "DB_PATH", tmp_path / ".demo" / "personio.duckdb")
    monkeypatch.setattr(demo, "STATE_PATH", tmp_path / ".demo" / "state.json")
    monkeypatch.setenv("PERSONIO_CLIENT_ID", "real-id")
    monkeypatch.setenv("PERSONIO_CLIENT_SECRET", "real-secret-value")
    monkeypatch.setenv("PERSONIO_BASE_URL", "https://api.personio.de")
    monkeypatch.delenv("PERSONIO_START_DATE", raising=False)

    assert demo.main([]) == 0
    assert calls == [{"config": {"client_id": "real-id", "client_secret": "real-secret-value",
                                 "base_url": "https://api.personio.de"}, "sandbox": None, "config_dir_private": True}]
    out = capsys.readouterr().out
    assert "real-secret-value" not in out
    assert "https://api.personio.de" in out and "sandbox" not in out.lower()


def test_loader_keeps_keys_outside_the_schema_and_values_that_do_not_fit_their_type(tmp_path):
    warnings = []
    schema = {"properties": {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}}
    loader = demo.DuckDBLoader(tmp_path / "t.duckdb", {"people": schema}, tmp_path, batch_records=2,
                               warn=warnings.append)
    loader.add("people", {"id": 1, "name": "a"}, 1_700_000_000_000)
    loader.add("people", {"id": 2, "name": "b", "nickname": {"short": "bee"}}, 1_700_000_000_000)
    loader.add("people", {"id": "three", "name": "c"}, 1_700_000_000_000)
    loader.add("unlisted", {"x": [1, 2]}, None)
    loader.finish()
    try:
        rows = loader.con.execute('select id::varchar, nickname::varchar from people order by name').fetchall()
        unlisted = loader.con.execute("select x::varchar from unlisted").fetchall()
    finally:
        loader.close()
    assert rows == [("1", None), ("2", '{"short":"bee"}'), ('"three"', None)]
    assert unlisted == [("[1,2]",)]
    assert len(warnings) == 1 and "people" in warnings[0]


def test_summary_warns_when_duckdb_holds_fewer_rows_than_records_read():
    lines = []
    result = demo.DemoResult(read=demo.ReadResult(counts={"employees": 3, "absences": 0}),
                             rows={"employees": 2, "absences": 0}, columns={}, timings={})
    assert demo.print_summary(result, Path("x.duckdb"), out=lines.append) is False
    assert [line for line in lines if line.startswith("WARNING")] == [
        "WARNING: stream employees: 3 records read but 2 rows in DuckDB"
    ]


@pytest.mark.timeout(120)
def test_demo_with_a_wrong_secret_stops_at_check_without_reading(tiny_sandbox, counted_exe, tmp_path):
    exe, invocations = counted_exe
    workdir = tmp_path / "run"
    workdir.mkdir()
    lines = []
    config = tiny_sandbox.config(client_secret="not-the-secret")
    with pytest.raises(demo.DemoError, match="`check` failed") as failure:
        demo.run_demo(exe, config, workdir, db_path=tmp_path / "personio.duckdb", out=lines.append)
    assert invocations.read_text().split() == ["spec", "check"]
    assert "not-the-secret" not in str(failure.value) + "\n".join(lines)
    assert any(line.startswith("  check      FAILED") for line in lines)
    assert not (tmp_path / "personio.duckdb").exists()
