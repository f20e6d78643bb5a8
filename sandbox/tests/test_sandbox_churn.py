"""Changes under a sync: the wall clock stamps them, each resource moves the timestamps Personio's
records would move, deleted parents answer 404, and churn mode keeps changing data while serving."""
from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from personio_sandbox.testing import Sandbox
from sandbox_client import Client


def _epoch(s: str) -> float:
    """Any of the sandbox's timestamp spellings (Z, +01:00, +0100, .0Z) -> epoch seconds."""
    s = s.replace(".0Z", "Z").replace("Z", "+00:00")
    if len(s) >= 5 and s[-5] in "+-" and s[-3] != ":":
        s = s[:-2] + ":" + s[-2:]
    return dt.datetime.fromisoformat(s).timestamp()


@pytest.fixture(scope="module")
def msb():
    with Sandbox(employees=25, seed=8) as s:
        yield s, Client(s)


def test_changes_are_stamped_with_the_wall_clock_and_are_newer_than_every_generated_record(msb):
    s, c = msb
    generated = max([_epoch(e["attributes"]["last_modified_at"]["value"]) for e in s.truth("employees")]
                    + [_epoch(a["attributes"]["updated_at"]) for a in s.truth("absences")]
                    + [_epoch(p["updated_at"]) for p in s.truth("persons")])
    t0 = time.time()
    out = s.mutate(update=2, create=1, resources=["employees", "absences", "persons"], seed=11)
    t1 = time.time()
    assert len(out["changes"]) == 9
    for ch in out["changes"]:
        at = _epoch(ch["at"])
        assert t0 - 1 <= at <= t1 + 1 and at > generated, ch
    emps = {e["attributes"]["id"]["value"]: e for e in c.read_v1_offset("/v1/company/employees")}
    for eid in out["updated"]["employees"] + out["created"]["employees"]:
        at = _epoch(emps[eid]["attributes"]["last_modified_at"]["value"])
        assert t0 - 1 <= at <= t1 + 1
    offs = {a["attributes"]["id"]: a for a in c.read_v1_pages("/v1/company/time-offs", limit=200)}
    for aid in out["updated"]["absences"]:
        assert t0 - 1 <= _epoch(offs[aid]["attributes"]["updated_at"]) <= t1 + 1


def test_employment_update_moves_the_employment_but_not_the_persons_updated_at(msb):
    s, c = msb
    persons = {p["id"]: p for p in s.truth("persons")}
    employments = {m["id"]: m for m in s.truth("employments")}
    v1 = {str(e["attributes"]["id"]["value"]): e for e in s.truth("employees")}
    out = s.mutate(update=1, resources=["employments"], seed=2)
    (ch,) = out["changes"]
    pid = ch["person_id"]
    assert employments[ch["id"]]["person"]["id"] == pid
    after_person = c.get("/v2/persons/%s" % pid).json()
    assert after_person["updated_at"] == persons[pid]["updated_at"]
    (after_emp,) = [m for m in c.read_v2("/v2/persons/%s/employments" % pid) if m["id"] == ch["id"]]
    assert after_emp["updated_at"] == ch["at"] != employments[ch["id"]]["updated_at"]
    assert after_emp["weekly_working_hours"] != employments[ch["id"]]["weekly_working_hours"]
    # v1 shows the hours, so its record changed and says so
    e = c.get("/v1/company/employees/%s" % pid).json()["data"]["attributes"]
    assert e["last_modified_at"]["value"] != v1[pid]["attributes"]["last_modified_at"]["value"]
    # and an incremental persons read does not see it
    newer = c.read_v2("/v2/persons", {"updated_at.gt": persons[pid]["updated_at"], "limit": 50})
    assert pid not in {p["id"] for p in newer}


def test_employment_changes_can_be_made_to_move_the_person_too():
    with Sandbox(employees=8, seed=8, extra_args=["--employment-touches-person"]) as s:
        before = {p["id"]: p["updated_at"] for p in s.truth("persons")}
        (ch,) = s.mutate(update=1, resources=["employments"], seed=2)["changes"]
        after = {p["id"]: p["updated_at"] for p in s.truth("persons")}
        assert after[ch["person_id"]] == ch["at"] != before[ch["person_id"]]


def test_person_update_moves_the_person_but_not_its_employments(msb):
    s, c = msb
    employments = {m["id"]: m["updated_at"] for m in s.truth("employments")}
    (ch,) = s.mutate(update=1, resources=["persons"], seed=4)["changes"]
    p = c.get("/v2/persons/%s" % ch["id"]).json()
    assert p["updated_at"] == ch["at"]
    for m in c.read_v2("/v2/persons/%s/employments" % ch["id"]):
        assert m["updated_at"] == employments[m["id"]]


def _month(date: str) -> tuple[str, str]:
    d = dt.date.fromisoformat(date[:8] + "01")
    nxt = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return d.isoformat(), (nxt - dt.timedelta(days=1)).isoformat()


def test_back_dated_compensation_changes_appear_in_their_past_month_window(msb):
    s, c = msb
    this_month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    current_before = c.read_v2("/v2/compensations", {"limit": 100})
    out = s.mutate(update=1, create=1, delete=1, resources=["compensations"], seed=5)
    by_op = {ch["op"]: ch for ch in out["changes"]}
    assert set(by_op) == {"create", "update", "delete"}
    for op, ch in by_op.items():
        assert ch["effective_date"][:7] < this_month  # back-dated
        start, end = _month(ch["effective_date"])
        window = {x["id"]: x for x in c.read_v2("/v2/compensations", {"start_date": start, "end_date": end,
                                                                      "limit": 100})}
        if op == "delete":
            assert ch["id"] not in window  # a deleted item simply stops appearing
        else:
            assert window[ch["id"]]["updated_at"] == ch["at"]
            assert window[ch["id"]]["effective_date"] == ch["effective_date"]
    # the current month did not change
    assert c.read_v2("/v2/compensations", {"limit": 100}) == current_before


def test_deleted_parents_answer_their_children_endpoints_with_404(msb):
    s, c = msb
    eid = s.truth("employees")[-1]["attributes"]["id"]["value"]
    period = s.truth("absence_periods_v1")[0]["attributes"]["id"]  # an hour-unit absence: its uuid is the v2 id
    app = s.truth("applications")[0]["id"]
    assert c.get("/v1/company/employees/%d/absences/balance" % eid).status_code == 200
    assert c.get("/v2/absence-periods/%s/breakdowns" % period).status_code == 200
    assert c.get("/v2/recruiting/applications/%s/stage-transitions" % app).status_code == 200
    s.mutate(delete=1, resource="employees", delete_ids=[eid])
    s.mutate(delete=1, resource="absence_periods", delete_ids=[period])
    s.mutate(delete=1, resource="applications", delete_ids=[app])
    r = c.get("/v1/company/employees/%d/absences/balance" % eid)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/json")
    assert r.json()["success"] is False and r.json()["error"]["code"] == 404 and r.json()["error"]["message"]
    for path in ("/v2/persons/%d/employments" % eid, "/v2/absence-periods/%s/breakdowns" % period,
                 "/v2/recruiting/applications/%s/stage-transitions" % app):
        r = c.get(path)
        assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json"), path
        assert r.json()["errors"][0]["title"] == "Resource not found"


def test_churn_mode_applies_the_mix_while_serving():
    with Sandbox(employees=15, seed=9, churn="employees=update:2,create:1;absences=update:1",
                 churn_every_requests=3) as s:
        c = Client(s)
        stamps = []
        for _ in range(9):
            body = c.get("/v1/company/employees", {"limit": 50}).json()
            stamps.append(sorted(e["attributes"]["last_modified_at"]["value"] for e in body["data"]))
        changes = s.changes()
        assert changes and {ch["source"] for ch in changes} == {"churn"}
        rounds = sorted({ch["request"] for ch in changes})
        assert rounds == [3, 6, 9]  # every third of 10 requests (v1 auth + 9 pages)
        per_round = [ch for ch in changes if ch["request"] == 3]
        assert sorted((ch["resource"], ch["op"]) for ch in per_round) == sorted(
            [("employees", "create"), ("employees", "update"), ("employees", "update"), ("absences", "update")])
        assert len({tuple(x) for x in stamps}) >= 3  # the served data changed while reading
        assert len(s.truth("employees")) == 15 + 3


def test_interval_churn_changes_data_without_requests():
    with Sandbox(employees=10, seed=9, churn="projects=update:1", churn_interval_s=0.2) as s:
        time.sleep(1.5)
        assert len(s.changes()) >= 3
        s.set_churn(None)
        n = len(s.changes())
        time.sleep(0.6)
        assert len(s.changes()) == n


def test_churn_with_concurrent_readers_serves_consistent_pages():
    with Sandbox(employees=60, seed=10, churn="employees=create:1,delete:1,update:1", churn_every_requests=2) as s:
        c = Client(s)
        c.v1_token()

        def page(i):
            r = c.get("/v1/company/employees", {"limit": 20, "offset": (i % 3) * 20})
            body = r.json()
            return r.status_code, body["metadata"]["total_elements"], len(body["data"])
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(page, range(120)))
        assert {st for st, _t, _n in results} == {200}
        assert all(n == min(20, max(0, total - off)) for (st, total, n), off in
                   zip(results, [(i % 3) * 20 for i in range(120)]))
        assert len(s.changes()) >= 3 * 50


def test_same_seed_makes_the_same_changes():
    picks = []
    for _ in range(2):
        with Sandbox(employees=20, seed=12) as s:
            out = s.mutate(create=1, update=3, delete=1, resources=["employees", "absences", "compensations"], seed=99)
            picks.append({k: out[k] for k in ("created", "updated", "deleted")})
    assert picks[0] == picks[1]


def test_base_clock_keeps_the_synthetic_stamps():
    with Sandbox(employees=6, seed=9, clock="base") as s:
        first = s.mutate(update=1, resources=["employees"], seed=1)["changes"]
        second = s.mutate(update=2, resources=["absences"], seed=1)["changes"]
        # 60 s past the base date, then one second per change
        assert [ch["at"] for ch in first] == ["2026-11-01T00:01:01Z"]
        assert [ch["at"] for ch in second] == ["2026-11-01T00:02:02Z", "2026-11-01T00:02:03Z"]


def _rest_of_persons(c, first) -> list:
    """The ids of the /v2/persons pages after ``first`` (pages of 10), following its next cursors."""
    ids, nxt = [], first["_meta"]["links"].get("next")
    while nxt:
        page = c.get("/v2/persons", {"limit": 10, "cursor": nxt["href"].split("cursor=")[1]}).json()
        ids += [p["id"] for p in page["_data"]]
        nxt = page["_meta"]["links"].get("next")
    return ids


def _persons_in_pages_around_a_delete(v2_cursors: str):
    """Reads /v2/persons in pages of 10; after page 1 the first person of page 1 is deleted."""
    with Sandbox(employees=30, seed=8, extra_args=["--v2-cursors", v2_cursors]) as s:
        c = Client(s)
        listed = [p["id"] for p in s.truth("persons")]
        first = c.get("/v2/persons", {"limit": 10}).json()
        s.mutate(delete=1, resource="persons", delete_ids=[first["_data"][0]["id"]])
        seen = [p["id"] for p in first["_data"]]
        seen += _rest_of_persons(c, first)
        return listed, seen


def test_positional_v2_cursors_skip_a_record_after_a_delete_behind_the_read_position():
    listed, seen = _persons_in_pages_around_a_delete("positional")
    assert [p for p in listed if p not in seen] == [listed[10]]  # the first of page 2 moved onto page 1
    assert len(seen) == len(set(seen))


def test_keyset_v2_cursors_go_on_after_the_last_record_returned_whatever_was_deleted():
    listed, seen = _persons_in_pages_around_a_delete("keyset")
    assert seen == listed  # page 1 as it was, then everything after it exactly once


def test_keyset_v2_cursors_neither_repeat_nor_skip_after_an_insert_behind_the_read_position():
    with Sandbox(employees=30, seed=8, extra_args=["--v2-cursors", "keyset", "--insert-at", "random"]) as s:
        c = Client(s)
        first = c.get("/v2/persons", {"limit": 10}).json()
        before = [p["id"] for p in s.truth("persons")]
        s.mutate(create=5, resource="persons")
        after = [p["id"] for p in s.truth("persons")]
        seen = [p["id"] for p in first["_data"]]
        seen += _rest_of_persons(c, first)
    assert len(seen) == len(set(seen))
    assert set(before) <= set(seen)
    last_of_first = after.index(seen[9])
    assert seen[10:] == after[last_of_first + 1:]  # after page 1: the current list after its last record
