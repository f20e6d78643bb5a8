"""/_sandbox/truth: every record that exists now, straight from the data model. On quiescent data it
equals a full paged read made here with page sizes the connector does not use (its defaults: v1
employees 100, time-offs 200, v2 lists 50-200), so a paging bug cannot hide in both."""
from __future__ import annotations

import pytest

from personio_sandbox.testing import Sandbox
from sandbox_client import Client


@pytest.fixture(scope="module")
def tsb():
    with Sandbox(employees=23, seed=14) as s:
        yield s, Client(s)


def _v1_id(r):
    return r["attributes"]["id"]["value"] if isinstance(r["attributes"]["id"], dict) else r["attributes"]["id"]


@pytest.mark.parametrize("resource, read", [
    ("employees", lambda c: c.read_v1_offset("/v1/company/employees", limit=7)),
    ("absences", lambda c: c.read_v1_pages("/v1/company/time-offs", limit=13)),
    ("absence_periods_v1", lambda c: c.read_v1_pages("/v1/company/absence-periods", limit=3)),
    ("persons", lambda c: c.read_v2("/v2/persons", {"limit": 3})),
    ("absence_periods", lambda c: c.read_v2("/v2/absence-periods", {"limit": 9})),
    ("attendance_periods", lambda c: c.read_v2("/v2/attendance-periods", {"limit": 97})),
    ("projects", lambda c: c.read_v2("/v2/projects", {"limit": 1})),
    ("candidates", lambda c: c.read_v2("/v2/recruiting/candidates", {"limit": 4})),
    ("applications", lambda c: c.read_v2("/v2/recruiting/applications", {"limit": 4})),
    ("time_off_types", lambda c: c.get("/v1/company/time-off-types", {"limit": 1000}).json()["data"]),
    ("org_units", lambda c: c.read_v2("/v2/org-units", {"type": "department", "limit": 2})
     + c.read_v2("/v2/org-units", {"type": "team", "limit": 2})),
])
def test_truth_equals_a_quiescent_full_paged_read(tsb, resource, read):
    s, c = tsb
    truth = s.truth(resource)
    got = read(c)
    assert truth and len(got) == len(truth)
    if resource == "org_units":  # two lists read one after the other
        truth = sorted(truth, key=lambda u: (u["type"] != "department", len(u["id"]), u["id"]))
    assert got == truth


def test_truth_of_per_parent_streams_equals_reading_every_parent(tsb):
    s, c = tsb
    employments = [m for p in c.read_v2("/v2/persons", {"limit": 7})
                   for m in c.read_v2("/v2/persons/%s/employments" % p["id"], {"limit": 1})]
    assert employments == s.truth("employments")
    balances = [dict(b, employee_id=e["attributes"]["id"]["value"])
                for e in c.read_v1_offset("/v1/company/employees", limit=9)
                for b in c.get("/v1/company/employees/%d/absences/balance" % e["attributes"]["id"]["value"]).json()["data"]]
    assert balances == s.truth("balances")
    breakdowns = [dict(x, absence_period_id=a["id"]) for a in c.read_v2("/v2/absence-periods", {"limit": 50})
                  for x in c.read_v2("/v2/absence-periods/%s/breakdowns" % a["id"], {"limit": 2})]
    assert breakdowns == s.truth("breakdowns")
    transitions = [dict(t, application_id=a["id"]) for a in c.read_v2("/v2/recruiting/applications", {"limit": 50})
                   for t in c.read_v2("/v2/recruiting/applications/%s/stage-transitions" % a["id"], {"limit": 1})]
    assert transitions == s.truth("stage_transitions")


def test_truth_of_compensations_is_every_month_window(tsb):
    s, c = tsb
    for start, end in (("2026-03-01", "2026-03-31"), ("2025-11-01", "2025-11-30")):
        window = c.read_v2("/v2/compensations", {"start_date": start, "end_date": end, "limit": 7})
        assert window and window == s.truth("compensations", start_date=start, end_date=end)
    every = s.truth("compensations")
    march = s.truth("compensations", start_date="2026-03-01", end_date="2026-03-31")
    assert {x["id"] for x in march} < {x["id"] for x in every}


def test_truth_follows_changes_immediately():
    with Sandbox(employees=12, seed=15) as s:
        before = {_v1_id(e) for e in s.truth("employees")}
        out = s.mutate(create=2, delete=3, resources=["employees"], seed=1)
        after = {_v1_id(e) for e in s.truth("employees")}
        assert after == (before - set(out["deleted"]["employees"])) | set(out["created"]["employees"])
        assert len(out["deleted"]["employees"]) == 3 and len(after) == 11


def test_unknown_truth_resource_answers_404_with_the_known_names(tsb):
    s, _ = tsb
    import json
    import urllib.error
    import urllib.request
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(s.url + "/_sandbox/truth/nonsense")
    assert e.value.code == 404 and "employees" in json.loads(e.value.read())["known"]
