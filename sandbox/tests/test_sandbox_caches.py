"""The sandbox's per-data-version caches (context.memo / per_version: balances' absence index, report rows,
filtered lists) never serve a read made before a change: a company that was read, then changed, answers
exactly like the same company changed without ever being read (nothing cached)."""
from __future__ import annotations

import orjson
import pytest

from personio_sandbox import api, data as D, mutate

CHANGE = {"resources": mutate.RESOURCES, "create": 3, "update": 4, "delete": 2, "seed": 5}


def _company():
    c = D.generate_company(9, 40)
    c.clock_mode = "base"  # change stamps from the synthetic clock: the two companies get the same ones
    return c


def _reads(c) -> dict:
    out = {}
    for e in c.listed_employees():
        out["balance %s" % e["id"]] = api.render(c, "/v1/company/employees/%d/absences/balance" % e["id"])
    for r in c.reports:
        out["v1 report %s" % r["id"]] = [api.render(c, "/v1/company/custom-reports/reports/%s?limit=7&page=%d" % (r["id"], p))
                                         for p in range(1, 8)]
        out["v2 report %s" % r["id"]] = api.render(c, "/v2/reports/%s?limit=1000" % r["id"])
    for path in ("/v1/company/employees", "/v2/persons", "/v2/recruiting/candidates", "/v2/recruiting/applications",
                 "/v2/recruiting/jobs", "/v2/attendance-periods"):
        out[path] = api.dataset(c, path)
    out["updated persons"] = api.render(c, "/v2/persons?limit=50&updated_at.gt=2026-01-01T00:00:00")
    return {k: orjson.dumps(_without_error_bodies(v), option=orjson.OPT_SORT_KEYS) for k, v in out.items()}


def _without_error_bodies(read):
    """An error answer as its status only (its body carries a trace id and the time)."""
    if isinstance(read, tuple) and read[0] != 200:
        return read[0]
    if isinstance(read, list) and read and isinstance(read[0], tuple):
        return [_without_error_bodies(x) for x in read]
    return read


def test_reads_after_a_change_equal_those_of_a_company_never_read_before_it():
    read_first, never_read = _company(), _company()
    before = _reads(read_first)  # fills every cache of read_first
    mutate.apply(read_first, dict(CHANGE))
    mutate.apply(never_read, dict(CHANGE))
    after, expected = _reads(read_first), _reads(never_read)
    assert after == expected
    assert after != before  # the change is visible (balances, reports or lists moved)
    changed = [k for k in after if after[k] != before.get(k)]
    assert any(k.startswith("balance") for k in changed) and any("report" in k for k in changed)


def _windows(c, rng, n):
    """n random updated_at windows (ISO, no zone) over the company's attendance year, some a few minutes wide."""
    out = []
    for _ in range(n):
        start = rng.randrange(D.WORKDAYS[0], D.WORKDAYS[-1] + D.DAY)
        width = rng.choice([60, 1800, 3 * 3600, 2 * D.DAY, 40 * D.DAY])
        out.append(tuple(D.iso_z(t)[:19] for t in (start, start + width)))
    return out


@pytest.mark.parametrize("changed", [False, True], ids=["as generated", "periods changed, created, deleted"])
def test_attendances_sorted_by_updated_at_in_a_window_equal_a_sort_of_every_matching_period(changed):
    """The index behind sort=updated_at windows (resources/attendances.py) answers like sorting every period:
    whole pages and single positions (a page built on access), with and without changed periods."""
    import random

    from personio_sandbox.resources import attendances as A

    c = _company()
    if changed:
        mutate.apply(c, {**CHANGE, "resources": ["employees", "attendance_periods"], "create": 6, "update": 9,
                         "delete": 4})
    rng = random.Random(4)
    moved = [r for r in c.attendance.overlay.values() if r] + [r for rs in c.attendance.extra.values() for r in rs]
    assert bool(moved) == changed
    around_changes = [(r["updated_at"][:19], r["updated_at"][:19]) for r in moved[:5]]
    if moved:
        around_changes.append((min(r["updated_at"] for r in moved)[:19], max(r["updated_at"] for r in moved)[:19]))
    compared, moved_served = 0, 0
    for gte, lte in _windows(c, rng, 40) + around_changes:
        f = {("updated_at", "gte"): gte + "Z", ("updated_at", "lte"): lte + "Z", "sort": "updated_at"}
        fast, every = A._att_sorted(c, f), A._att_sorted_from_every_period(c, f)
        assert len(fast) == len(every) and list(fast[:]) == every
        for i in {0, len(every) // 2, len(every) - 1} if every else ():
            assert fast[i] == every[i] and fast[i:i + 100] == every[i:i + 100]
        compared += len(every)
        moved_served += sum(1 for r in every if any(r is x for x in moved))
    assert compared > 1000 and moved_served >= len(moved)


def test_absence_periods_in_an_updated_at_window_equal_a_filter_of_every_period():
    """The index behind updated_at windows of /v2/absence-periods answers like filtering every period."""
    import random

    c = _company()
    mutate.apply(c, {**CHANGE, "resources": ["employees", "absences"]})
    rng = random.Random(5)
    stamps = sorted(a["updated_ts"] for a in c.absences.values())
    for _ in range(30):
        lo = rng.choice(stamps)
        hi = lo + rng.choice([0, 1, 3600, 30 * D.DAY])
        query = "updated_at.gte=%s&updated_at.lte=%s" % (D.iso_z(lo), D.iso_z(hi))
        served = [r["id"] for r in api.dataset(c, "/v2/absence-periods?" + query)]
        expected = sorted(a["uuid"] for a in c.absences.values() if lo <= a["updated_ts"] <= hi)
        assert served == expected and served


def test_persons_in_an_updated_at_window_equal_a_filter_of_every_person():
    """The index behind updated_at.gt/.lt windows of /v2/persons answers like filtering every person, in list order."""
    import random

    from personio_sandbox.resources.persons import person_updated_ts

    c = _company()
    mutate.apply(c, {**CHANGE, "resources": ["employees", "persons"]})
    rng = random.Random(6)
    stamps = sorted(person_updated_ts(e) for e in c.listed_employees())
    order = [e["id"] for e in c.listed_employees()]
    for _ in range(30):
        lo = rng.choice(stamps) - rng.choice([1, 2])
        hi = lo + rng.choice([3, 4, 3600, 30 * D.DAY])
        query = "updated_at.gt=%s&updated_at.lt=%s" % (D.iso_z(lo), D.iso_z(hi))
        served = [int(r["id"]) for r in api.dataset(c, "/v2/persons?" + query)]
        expected = [i for i in order if lo < person_updated_ts(c.employees[i]) < hi]
        assert served == expected and served
