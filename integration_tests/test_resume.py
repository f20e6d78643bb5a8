"""Kill and resume: a sync killed with SIGKILL at any moment and restarted with the last
state it emitted ends with the complete record set.

The connector runs as users run it (`source-personio read` in a subprocess). Messages are counted
as the platform receives them; at the kill point the process gets SIGKILL and nothing it printed
afterwards counts. The next run starts from the last state message of each stream received so far
(as the platform persists it). The union of records over all runs must contain every ground-truth
primary key of every stream (duplicates are what at-least-once delivery allows).

Kill points come from a seeded RNG over the message count of an uninterrupted run, plus points
inside the per-parent streams (employees_absences_balance, employments, absence_period_breakdowns,
recruiting_application_stage_transitions) and right after a state message. The v2 incremental
streams (persons, employments, absence periods and their breakdowns, compensations, recruiting) are
read incrementally like the v1 ones; their ground truth is the sandbox's /_sandbox/truth.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from personio_sandbox.testing import Sandbox
from expected_rows import v1_id

BIN = str(Path(sys.executable).with_name("source-personio"))
ATTENDANCE_SINCE = "2026-10-25"
INCREMENTAL = ("employees", "absences", "attendances")
V2_INCREMENTAL = (
    "persons",
    "employments",
    "absence_periods",
    "absence_period_breakdowns",
    "compensations",
    "recruiting_candidates",
    "recruiting_applications",
    "recruiting_application_stage_transitions",
)
SUBSTREAMS = ("employees_absences_balance", "employments", "absence_period_breakdowns", "recruiting_application_stage_transitions")
FULL_REFRESH = ("projects", "employees_absences_balance", "document_categories")
SEED = 20261123
RANDOM_KILLS = 7


@pytest.fixture(scope="module")
def rsb():
    with Sandbox(employees=45, seed=11, rate_limits="off") as sb:
        yield sb


@pytest.fixture(scope="module")
def truth(rsb) -> Dict[str, Set[Tuple[Any, ...]]]:
    employees = rsb.dataset("/v1/company/employees")
    out: Dict[str, Set[Tuple[Any, ...]]] = {
        "employees": {(e["attributes"]["id"]["value"],) for e in employees},
        "absences": {(v1_id(r),) for r in rsb.dataset(f"/v1/company/time-offs?updated_from={ATTENDANCE_SINCE}")},
        "attendances": {(r["id"],) for r in rsb.dataset(f"/v2/attendance-periods?updated_at.gte={ATTENDANCE_SINCE}T00:00:00")},
        "projects": {(r["id"],) for r in rsb.dataset("/v2/projects")},
        "document_categories": {(v1_id(r),) for r in rsb.dataset("/v1/company/document-categories")},
        "employees_absences_balance": set(),
    }
    for e in employees:
        employee_id = e["attributes"]["id"]["value"]
        for balance in rsb.dataset(f"/v1/company/employees/{employee_id}/absences/balance"):
            out["employees_absences_balance"].add((employee_id, balance["id"]))
    since = ATTENDANCE_SINCE + "T00:00:00Z"
    periods = [p for p in rsb.truth("absence_periods") if p["updated_at"] >= since]
    in_scope = {p["id"] for p in periods}
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    out.update(
        {
            "persons": {(p["id"],) for p in rsb.truth("persons")},
            "employments": {(m["id"],) for m in rsb.truth("employments")},
            "absence_periods": {(p["id"],) for p in periods},
            "absence_period_breakdowns": {
                (b["absence_period_id"], b["date"]) for b in rsb.truth("breakdowns") if b["absence_period_id"] in in_scope
            },
            "compensations": {(c["id"],) for c in rsb.truth("compensations", start_date=ATTENDANCE_SINCE, end_date=today)},
            "recruiting_candidates": {(c["id"],) for c in rsb.truth("candidates")},
            "recruiting_applications": {(a["id"],) for a in rsb.truth("applications")},
            "recruiting_application_stage_transitions": {(t["application_id"], t["entered_at"]) for t in rsb.truth("stage_transitions")},
        }
    )
    assert all(out.values()), {k: len(v) for k, v in out.items()}
    return out


PK = {
    "employees_absences_balance": ("employee_id", "id"),
    "absence_period_breakdowns": ("absence_period_id", "date"),
    "recruiting_application_stage_transitions": ("application_id", "entered_at"),
}


def write_inputs(tmp_path: Path, rsb) -> Tuple[Path, Path]:
    config = rsb.config(start_date=ATTENDANCE_SINCE, retry_backoff_seconds=0.05, num_workers=2)
    (tmp_path / "config.json").write_text(json.dumps(config))
    streams = [
        {
            "stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": "incremental" if s in INCREMENTAL + V2_INCREMENTAL else "full_refresh",
            "destination_sync_mode": "append_dedup" if s in INCREMENTAL + V2_INCREMENTAL else "overwrite",
        }
        for s in INCREMENTAL + V2_INCREMENTAL + FULL_REFRESH
    ]
    (tmp_path / "catalog.json").write_text(json.dumps({"streams": streams}))
    return tmp_path / "config.json", tmp_path / "catalog.json"


class Run:
    def __init__(self) -> None:
        self.records: List[Dict[str, Any]] = []
        self.states: List[Dict[str, Any]] = []
        self.sequence: List[Tuple[str, str]] = []  # (RECORD|STATE, stream) in arrival order
        self.killed = False
        self.returncode: Optional[int] = None
        self.errors: List[str] = []


def run_until(tmp_path: Path, config: Path, catalog: Path, state: List[Dict[str, Any]], kill: Optional[Tuple[Optional[str], int]]) -> Run:
    """Run a read; with kill=(stream or None, n) SIGKILL it as soon as the n-th RECORD of that
    stream (or the n-th RECORD/STATE of any stream) has been received."""
    args = [BIN, "read", "--config", str(config), "--catalog", str(catalog)]
    if state:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    run = Run()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tmp_path, text=True, bufsize=1)
    seen = 0
    try:
        for line in proc.stdout:
            message = json.loads(line)
            kind = message["type"]
            if kind == "RECORD":
                run.records.append(message["record"])
                run.sequence.append(("RECORD", message["record"]["stream"]))
            elif kind == "STATE":
                run.states.append(message["state"])
                run.sequence.append(("STATE", message["state"]["stream"]["stream_descriptor"]["name"]))
            elif kind == "TRACE" and message["trace"]["type"] == "ERROR":
                run.errors.append(message["trace"]["error"]["message"])
                continue
            else:
                continue
            if kill is not None:
                stream, n = kill
                if stream is None or (kind == "RECORD" and message["record"]["stream"] == stream):
                    seen += 1
                if seen >= n:
                    os.kill(proc.pid, signal.SIGKILL)
                    run.killed = True
                    break
    finally:
        if proc.stdout:
            proc.stdout.close()
        run.returncode = proc.wait(timeout=60)
    return run


def merge_state(previous: List[Dict[str, Any]], emitted: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What the platform persists: the last state message of each stream."""
    by_stream = {s["stream"]["stream_descriptor"]["name"]: s for s in previous}
    for s in emitted:
        by_stream[s["stream"]["stream_descriptor"]["name"]] = s
    return list(by_stream.values())


def keys(records: List[Dict[str, Any]]) -> Dict[str, Set[Tuple[Any, ...]]]:
    out: Dict[str, Set[Tuple[Any, ...]]] = {}
    for r in records:
        pk = PK.get(r["stream"], ("id",))
        out.setdefault(r["stream"], set()).add(tuple(r["data"][f] for f in pk))
    return out


@pytest.fixture(scope="module")
def reference(rsb, truth, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume-ref")
    config, catalog = write_inputs(tmp, rsb)
    run = run_until(tmp, config, catalog, [], None)
    assert run.returncode == 0 and not run.errors, run.errors
    got = keys(run.records)
    for stream, expected in truth.items():
        assert got.get(stream, set()) == expected, stream
    return run


def kill_points(reference: Run) -> List[Tuple[Optional[str], int]]:
    rng = random.Random(SEED)
    total = len(reference.sequence)
    points: List[Tuple[Optional[str], int]] = [(None, rng.randint(1, total - 1)) for _ in range(RANDOM_KILLS)]
    for substream in SUBSTREAMS:
        n = sum(1 for kind, stream in reference.sequence if kind == "RECORD" and stream == substream)
        points += [(substream, k) for k in sorted({1, max(1, n // 2), max(1, n - 1)})]
    first_state = next(i for i, (kind, _) in enumerate(reference.sequence) if kind == "STATE") + 1
    points.append((None, first_state))  # killed right after the first checkpoint
    return points


def test_every_incremental_stream_checkpoints_state(reference):
    """At least one state message per stream and slice; the state of an incremental stream
    comes after its records (so a restart never skips what was not delivered)."""
    for stream in INCREMENTAL + V2_INCREMENTAL + FULL_REFRESH:
        positions = [i for i, (kind, s) in enumerate(reference.sequence) if s == stream and kind == "STATE"]
        assert positions, f"{stream} emitted no state"
        records = [i for i, (kind, s) in enumerate(reference.sequence) if s == stream and kind == "RECORD"]
        assert max(positions) > max(records), f"{stream}: records after its final state"


@pytest.mark.timeout(1800)
def test_a_sync_killed_at_any_moment_and_resumed_from_its_last_state_loses_no_record(rsb, truth, reference, tmp_path):
    config, catalog = write_inputs(tmp_path, rsb)
    points = kill_points(reference)
    assert len(points) >= 10
    for kill in points:
        union: List[Dict[str, Any]] = []
        state: List[Dict[str, Any]] = []
        run = run_until(tmp_path, config, catalog, state, kill)
        assert run.killed, f"kill point {kill} was never reached"
        union += run.records
        state = merge_state(state, run.states)
        resumed = run_until(tmp_path, config, catalog, state, None)
        assert resumed.returncode == 0 and not resumed.errors, (kill, resumed.errors)
        union += resumed.records
        got = keys(union)
        for stream, expected in truth.items():
            missing = expected - got.get(stream, set())
            assert not missing, f"kill point {kill}: {stream} lost {len(missing)} records, e.g. {sorted(missing)[:3]}"


@pytest.mark.timeout(600)
def test_a_sync_killed_repeatedly_still_converges(rsb, truth, tmp_path):
    """Kill every run early (after 40 % of an uninterrupted run's messages, then 60 %, 80 %):
    each restart makes progress from its state and the last run completes."""
    config, catalog = write_inputs(tmp_path, rsb)
    union: List[Dict[str, Any]] = []
    state: List[Dict[str, Any]] = []
    for share in (0.4, 0.6, 0.8):
        run = run_until(tmp_path, config, catalog, state, (None, 60 + int(share * 100)))
        union += run.records
        state = merge_state(state, run.states)
    final = run_until(tmp_path, config, catalog, state, None)
    assert final.returncode == 0 and not final.errors, final.errors
    union += final.records
    got = keys(union)
    for stream, expected in truth.items():
        assert expected <= got.get(stream, set()), stream
