"""Incremental syncs on every tenant profile: each timestamp filter goes out in the form Personio
documents for its endpoint (the sandbox answers the forms §10.5 confirms rejected -- a ``Z`` on attendance
periods -- with 400), and wrapped recruiting timestamps drive the cursors and primary keys like plain ones."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

from personio_sandbox.testing import Sandbox

from expected_rows import utc_z
from sandbox_helpers import Cli, write

PROFILES = ("full", "small_business", "narrow", "shapes")
MUTATED = ["employees", "absences", "attendance_periods", "projects", "candidates", "applications"]


def incremental_catalog(streams: List[Dict[str, Any]]) -> Dict[str, Any]:
    entries = []
    for s in streams:
        incremental = "incremental" in s["supported_sync_modes"]
        entries.append({
            "stream": s,
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append" if incremental else "overwrite",
            **({"cursor_field": s.get("default_cursor_field") or []} if incremental else {}),
        })
    return {"streams": entries}


def final_state(cli: Cli) -> List[Dict[str, Any]]:
    last: Dict[str, Dict[str, Any]] = {}
    for m in cli.of("STATE"):
        last[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
    return list(last.values())


class TwoSyncs:
    """A first incremental sync, a change of every mutable resource, a second sync from the first's state."""

    def __init__(self, profile: str, tmp: Path):
        log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-tenant-inc-{profile}-{os.getpid()}.log")
        self.sandbox = Sandbox(employees=6, seed=13, rate_limits="off", tenant=profile, log_path=log_path)
        self.sandbox.__enter__()
        config = self.sandbox.config(retry_backoff_seconds=0.1, start_date="2025-01-01",
                                     **({"custom_report_streams": False} if profile == "shapes" else {}))
        config_path = write(tmp / "config.json", config)
        streams = Cli(["discover", "--config", config_path]).of("CATALOG")[0]["catalog"]["streams"]
        catalog_path = write(tmp / "catalog.json", incremental_catalog(streams))
        self.tenant = self.sandbox.tenant_info()
        self.sandbox.reset_stats()
        self.first = Cli(["read", "--config", config_path, "--catalog", catalog_path])
        self.before = {"applications": self.sandbox.truth("recruiting_applications")}
        self.sandbox.mutate(create=1, update=2, resources=MUTATED)
        state_path = write(tmp / "state.json", final_state(self.first))
        self.second = Cli(["read", "--config", config_path, "--catalog", catalog_path, "--state", state_path])
        self.stats = self.sandbox.stats()

    def close(self) -> None:
        self.sandbox.__exit__(None, None, None)


@pytest.fixture(scope="module", params=PROFILES)
def syncs(request, tmp_path_factory):
    two = TwoSyncs(request.param, tmp_path_factory.mktemp("inc-" + request.param))
    yield two
    two.close()


def test_every_incremental_request_is_accepted_by_the_sandbox_on_each_profile(syncs):
    for cli in (syncs.first, syncs.second):
        assert cli.returncode == 0, [e["message"] for e in cli.errors]
        assert not cli.errors, [e["message"] for e in cli.errors]
    # the only refusals are the tenant's gates (and an archived report's 400 on the shapes tenant)
    gates = {u["status"] for u in syncs.tenant["unavailable"]}
    if syncs.tenant["shapes"]:
        gates.add(400)
    refused = {int(k) for k in syncs.stats["statuses"] if str(k).startswith("4")}
    assert refused <= gates, syncs.stats["statuses"]
    # the filtered endpoints were asked twice (first sync and second sync), so their filters were sent
    requests = syncs.stats["requests"]
    assert requests.get("GET /v2/attendance-periods", 0) >= 2
    assert requests.get("GET /v1/company/employees", 0) >= 2


def test_wrapped_recruiting_timestamps_drive_the_cursor_and_the_stage_transition_keys(syncs):
    first = syncs.first.records()
    if "recruiting" in syncs.tenant["modules_missing"]:
        # no Recruiting module: nothing is read and the skip warns (its wording: test_tenant_profiles)
        assert not first.get("recruiting_applications") and not syncs.before["applications"]
        assert any(w.startswith("Skipped stream recruiting_applications:") for w in syncs.first.logs("WARN"))
        return
    applications = first["recruiting_applications"]
    assert applications and all(isinstance(a["updated_at"], str) and a["updated_at"].endswith("Z") for a in applications)
    state = {s["stream"]["stream_descriptor"]["name"]: s["stream"]["stream_state"] for s in final_state(syncs.first)}
    newest = max(utc_z(a["updated_at"]) for a in syncs.before["applications"])
    assert state["recruiting_applications"]["updated_at"] == newest
    # the second sync reads exactly the applications the mutation changed, as plain timestamps
    after = {a["id"]: a for a in syncs.sandbox.truth("recruiting_applications")}
    old = {a["id"]: a for a in syncs.before["applications"]}
    changed = {i for i, a in after.items() if old.get(i) != a}
    assert changed
    got = {a["id"]: a for a in syncs.second.records().get("recruiting_applications", [])}
    assert set(got) == changed
    for record_id in changed:
        assert got[record_id]["updated_at"] == utc_z(after[record_id]["updated_at"])
    # stage transitions are keyed by (application_id, plain entered_at)
    transitions = first["recruiting_application_stage_transitions"]
    keys = [(t["application_id"], t["entered_at"]) for t in transitions]
    assert len(keys) == len(set(keys)) and all(isinstance(k[1], str) and k[1].endswith("Z") for k in keys)
