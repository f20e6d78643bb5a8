"""Generator determinism and speed, in-process rendering helpers, and data changes between syncs."""
from __future__ import annotations


from personio_sandbox import api
from personio_sandbox.data import generate_company
from personio_sandbox.testing import Sandbox
from sandbox_client import Client


def test_same_seed_gives_the_same_company_and_another_seed_a_different_one():
    a = api.dataset(generate_company(7, 25), "/v1/company/employees")
    b = api.dataset(generate_company(7, 25), "/v1/company/employees")
    c = api.dataset(generate_company(8, 25), "/v1/company/employees")
    assert a == b and a != c


def test_other_resources_scale_with_company_size():
    small, big = generate_company(1, 20).record_counts(), generate_company(1, 400).record_counts()
    for k in ("absences", "attendance_periods", "org_units", "projects", "candidates", "applications", "jobs"):
        assert big[k] > small[k] * 3, k


def test_ten_thousand_employees_have_a_year_of_attendances():
    # how long generation takes is measured by `make bench` (scale runs), not asserted here
    c = generate_company(1, 10000)
    assert c.record_counts()["attendance_periods"] > 10000 * 200  # ~a year of working days


def test_in_process_render_helpers_give_v1_and_v2_pages():
    c = generate_company(2, 12)
    status, page = api.render(c, "/v1/company/employees", {"limit": "5", "offset": "10"})
    assert status == 200 and len(page["data"]) == 2 and page["metadata"]["total_elements"] == 12
    status, page = api.render(c, "/v2/persons?limit=5")
    assert status == 200 and len(page["_data"]) == 5 and "next" in page["_meta"]["links"]
    status, err = api.render(c, "/v2/org-units")
    assert status == 400 and err["errors"][0]["title"] == "Bad request"


def test_mutation_moves_timestamps_past_everything_and_incremental_reads_see_exactly_the_changes():
    with Sandbox(employees=20, seed=11) as s:
        c = Client(s)
        before = {p["id"]: p for p in s.dataset("/v2/persons")}
        newest = max(p["updated_at"] for p in before.values())
        out = s.mutate(create=2, update=3, delete=1, resources=["employees"])
        created, updated, deleted = (out[k]["employees"] for k in ("created", "updated", "deleted"))
        assert len(created) == 2 and len(updated) == 3 and len(deleted) == 1
        after = {p["id"]: p for p in s.dataset("/v2/persons")}
        assert str(deleted[0]) not in after and all(str(i) in after for i in created)
        changed = c.read_v2("/v2/persons", {"updated_at.gt": newest, "limit": 50})
        assert sorted(p["id"] for p in changed) == sorted(str(i) for i in created + updated)
        for i in updated:
            assert after[str(i)]["updated_at"] > before[str(i)]["updated_at"]
        # v1 sees the same change, plus the boundary record (updated_since is inclusive)
        boundary = {int(i) for i, p in before.items() if p["updated_at"] == newest and i in after}
        v1 = c.read_v1_offset("/v1/company/employees", updated_since=newest.replace("Z", ""))
        assert {e["attributes"]["id"]["value"] for e in v1} == set(created + updated) | boundary


def test_mutation_of_absences_and_attendances_is_visible_through_their_updated_filters():
    with Sandbox(employees=6, seed=12) as s:
        c = Client(s)
        out = s.mutate(create=2, update=2, delete=2, resources=["absences", "attendance_periods"])
        att = c.read_v2("/v2/attendance-periods", {"updated_at.gte": "2026-11-01T00:00:00"})
        assert sorted(a["id"] for a in att) == sorted(out["created"]["attendance_periods"] +
                                                      out["updated"]["attendance_periods"])
        all_att = {a["id"] for a in s.dataset("/v2/attendance-periods")}
        assert not set(out["deleted"]["attendance_periods"]) & all_att
        abs_v1 = c.read_v1_pages("/v1/company/time-offs", updated_from="2026-11-01")
        abs_v1 += c.read_v1_pages("/v1/company/absence-periods", updated_from="2026-11-01")
        assert len(abs_v1) == 4
        v2 = c.read_v2("/v2/absence-periods", {"updated_at.gte": "2026-11-01T00:00:00"})
        assert len(v2) == 4


def test_loadtest_reports_generation_time_and_throughput(capsys):
    from personio_sandbox import loadtest
    import json
    assert loadtest.main(["--employees", "300", "--seconds", "1", "--concurrency", "8", "--pages", "3"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["errors"] == 0 and out["requests"] > 100
    assert out["requests_per_s"] > 100 and out["generation_s"] < 5
