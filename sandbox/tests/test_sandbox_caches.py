"""The sandbox's per-data-version caches (context.memo / per_version: balances' absence index, report rows,
filtered lists) never serve a read made before a change: a company that was read, then changed, answers
exactly like the same company changed without ever being read (nothing cached)."""
from __future__ import annotations

import orjson

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
