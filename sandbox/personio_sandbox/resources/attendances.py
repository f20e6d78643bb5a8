"""v2 attendance periods (virtual records, cursor = person index + record index) and the switched-off v1
attendance/projects endpoints."""
from __future__ import annotations

import bisect
from collections.abc import Sequence

from .. import data as D
from ..context import Ctx, ensure_indexes, memo, parse_date, parse_dt, per_version, v2_bad
from ..data import iso_z
from ..errors import v1_error, v2_error
from ..paging import decode_cursor, links, v2_limit, v2_page


def h_v1_switched_off(ctx: Ctx):
    raise v1_error(410, "This endpoint was switched off on 2026-08-30 (final deprecation of the v1 Attendances and "
                        "Projects endpoints). Use the v2 attendance-periods and projects APIs instead.")


# --- attendance periods (virtual, cursor = (person index, record index))
def _att_filters(ctx: Ctx):
    f = {}
    ids = ctx.getlist("id")
    if ids:
        f["id"] = set(ids)
    pids = ctx.getlist("person.id")
    if pids:
        f["person"] = set(pids)
    for name in ("start.date_time", "end.date_time", "attribution_date"):
        for op in ("gte", "lte"):
            v = ctx.get(name + "." + op)
            if v is not None:
                if name == "attribution_date":
                    parse_date(v, v2_bad)
                    f[(name, op)] = v
                else:
                    parse_dt(v, v2_bad, allow_z=False)
                    f[(name, op)] = v.replace(" ", "T") if len(v) > 10 else v + "T00:00:00"
    for op in ("gte", "lte"):
        v = ctx.get("updated_at." + op)
        if v is not None:
            f[("updated_at", op)] = iso_z(parse_dt(v, v2_bad, allow_z=False))  # compared as ISO strings
    proj = ctx.getlist("project.id")
    if proj:
        f["project"] = set(proj)
    st = ctx.get("status")
    if st:
        f["status"] = st.upper()
    sort = ctx.get("sort")
    if sort and sort.replace(" ", "") not in ("person.id,start.date_time,end.date_time", "person.id,start.date_time",
                                              "person.id"):
        f["sort"] = sort
    return f


def _att_match(r: dict, f: dict) -> bool:
    if "id" in f and r["id"] not in f["id"]:
        return False
    for (name, op), v in ((k, v) for k, v in f.items() if isinstance(k, tuple)):
        if name == "updated_at":
            rv = r["updated_at"]
        elif name == "attribution_date":
            rv = r["attribution_date"]
        else:
            rv = r["start" if name.startswith("start") else "end"]["date_time"]
        if (op == "gte" and rv < v) or (op == "lte" and rv > v):
            return False
    if "project" in f and (r["project"] is None or r["project"]["id"] not in f["project"]):
        return False
    if "status" in f and r["approval"]["status"] != f["status"]:
        return False
    return True


def _iso_epoch(v: str) -> int:
    """An updated_at filter value as the filters keep it (``YYYY-MM-DDTHH:MM:SSZ``) in epoch seconds."""
    return D.day_epoch(v[:10]) + int(v[11:13]) * 3600 + int(v[14:16]) * 60 + int(v[17:19])


def _att_day_bounds(f: dict) -> tuple[int, int]:
    """Restrict the WORKDAYS index range from the filters (conservative)."""
    import bisect
    lo, hi = 0, len(D.WORKDAYS)
    for (name, op), v in ((k, v) for k, v in f.items() if isinstance(k, tuple)):
        if name == "updated_at":
            t = _iso_epoch(v)
            # base records: updated_at in [day + 18h, day + 19h)
            if op == "gte":
                lo = max(lo, bisect.bisect_left(D.WORKDAYS, t - 19 * 3600))
            else:
                hi = min(hi, bisect.bisect_right(D.WORKDAYS, t - 18 * 3600))
        else:
            t = D.day_epoch(v[:10])
            if op == "gte":
                lo = max(lo, bisect.bisect_left(D.WORKDAYS, t))
            else:
                hi = min(hi, bisect.bisect_right(D.WORKDAYS, t))
    return lo, hi


def attendance_page(c: D.Company, f: dict, state: tuple[int, int], limit: int):
    att = c.attendance
    ensure_indexes(c)
    persons = range(len(c.person_order))
    if "person" in f:
        persons = sorted(c._person_index[int(x)] for x in f["person"] if x.isdigit() and int(x) in c._person_index)
    day_lo, day_hi = _att_day_bounds(f)
    p0, j0 = state
    # start at the cursor's person (earlier persons are behind the read position)
    persons = range(max(p0, 0), len(c.person_order)) if isinstance(persons, range) else persons[bisect.bisect_left(persons, p0):]
    out = []
    for p in persons:
        if c.person_order[p] not in c.employees:
            continue
        start_j = j0 if p == p0 else 0
        for j in att.candidates(p, day_lo, day_hi, start_j):
            r = att.record(p, j)
            if r is None or not _att_match(r, f):
                continue
            if len(out) == limit:
                return out, (p, j)
            out.append(r)
    return out, None


def _updated_at_bounds(f: dict) -> tuple[float, float]:
    """The epoch range [lo, hi] the updated_at filters (whole seconds) allow."""
    lo, hi = float("-inf"), float("inf")
    for (name, op), v in ((k, v) for k, v in f.items() if isinstance(k, tuple)):
        if name == "updated_at":
            t = _iso_epoch(v)
            lo, hi = (max(lo, t), hi) if op == "gte" else (lo, min(hi, t))
    return lo, hi


def _day_index(c: D.Company, d: int) -> tuple[list, list]:
    """The persons with generated periods on workday ``d``, sorted by those periods' updated_at
    (one value per person and day): (sorted updated_at epochs, person indexes). Built once per data
    version and day."""
    def build():
        att, rows = c.attendance, []
        for p, eid in enumerate(c.person_order):
            emp = c.employees.get(eid)
            if emp is None:
                continue
            lo, hi = att.day_range(emp)
            if lo <= d < hi:
                rows.append((att.base_updated(emp, d), p))
        rows.sort()
        return [r[0] for r in rows], [r[1] for r in rows]
    return per_version(c, ("attendance-day", d), build)


class _GeneratedPeriodsByUpdatedAt(Sequence):
    """The generated periods of some days' persons in updated_at order, each built only when a page
    holds it. Only for a company without changed or created periods: workdays' updated_at ranges
    (18:00-19:00) are disjoint and ordered, so the list is the days' index ranges one after another,
    each person's periods of a day (same updated_at) in record order."""

    def __init__(self, c: D.Company, segments: list):
        self.c, self.segments, self.starts, n = c, segments, [], 0
        for _d, _persons, a, b in segments:
            self.starts.append(n)
            n += (b - a) * D.SLOTS
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._at(k) for k in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self._at(i)

    def _at(self, i: int) -> dict:
        s = bisect.bisect_right(self.starts, i) - 1
        d, persons, a, _b = self.segments[s]
        k, slot = divmod(i - self.starts[s], D.SLOTS)
        p = persons[a + k]
        lo, _ = self.c.attendance.day_range(self.c.emp_by_index(p))
        return self.c.attendance.base_record(p, (d - lo) * D.SLOTS + slot)


def _att_by_updated_at(c: D.Company, f: dict):
    """``sort=updated_at`` (ascending) with updated_at bounds, as the connector's windows ask: the same
    list as sorting every matching period (stable, from the default order), found through per-day
    indexes instead of building every period of the company for each window."""
    att = c.attendance
    day_lo, day_hi = _att_day_bounds(f)
    t_lo, t_hi = _updated_at_bounds(f)
    if not att.overlay and not att.extra and all(k == "sort" or (isinstance(k, tuple) and k[0] == "updated_at")
                                                 for k in f):
        segments = []
        for d in range(day_lo, day_hi):
            times, persons = _day_index(c, d)
            a, b = bisect.bisect_left(times, t_lo), bisect.bisect_right(times, t_hi)
            if a < b:
                segments.append((d, persons, a, b))
        return _GeneratedPeriodsByUpdatedAt(c, segments)
    found = []  # ((updated_at, person index, record index), record)
    for d in range(day_lo, day_hi):
        times, persons = _day_index(c, d)
        for k in range(bisect.bisect_left(times, t_lo), bisect.bisect_right(times, t_hi)):
            p = persons[k]
            lo, _ = att.day_range(c.emp_by_index(p))
            for j in range((d - lo) * D.SLOTS, (d - lo + 1) * D.SLOTS):
                if (p, j) in att.overlay:
                    continue  # changed or deleted: below
                r = att.base_record(p, j)
                if _att_match(r, f):
                    found.append(((r["updated_at"], p, j), r))
    for (p, j), r in att.overlay.items():
        if r is not None and c.person_order[p] in c.employees and _att_match(r, f):
            found.append(((r["updated_at"], p, j), r))
    for p, created in att.extra.items():
        if c.person_order[p] not in c.employees:
            continue
        n = att.base_count(p)
        for k, r in enumerate(created):
            if (p, n + k) not in att.overlay and _att_match(r, f):
                found.append(((r["updated_at"], p, n + k), r))
    found.sort(key=lambda x: x[0])
    return [r for _, r in found]


def _att_sorted(c: D.Company, f: dict) -> list:
    if f["sort"].strip().lstrip("+") == "updated_at" and "person" not in f and any(
            isinstance(k, tuple) and k[0] == "updated_at" for k in f):
        return _att_by_updated_at(c, f)
    return _att_sorted_from_every_period(c, f)


def _att_sorted_from_every_period(c: D.Company, f: dict) -> list:
    allr, st = [], (0, 0)
    while st is not None:
        recs, st = attendance_page(c, f, st, 10000)
        allr.extend(recs)
    keys = [k.strip() for k in f["sort"].split(",") if k.strip()]
    paths = {"person.id": ("person", "id"), "start.date_time": ("start", "date_time"),
             "end.date_time": ("end", "date_time"), "updated_at": ("updated_at",), "status": ("approval", "status")}
    for k in reversed(keys):
        desc = k.startswith("-")
        path = paths.get(k.lstrip("-+"))
        if path is None:
            raise v2_error(400, "Invalid sort field %r" % k.lstrip("-+"))

        def kf(r, path=path):
            v = r
            for p in path:
                v = v[p]
            return v
        allr.sort(key=kf, reverse=desc)
    return allr


def h_v2_attendance_periods(ctx: Ctx):
    c = ctx.company
    limit = v2_limit(ctx, 100, 100)
    f = _att_filters(ctx)
    if "sort" in f:
        # non-default sort: materialized once per (filters, data version), then paged like other v2 lists
        # (--v2-cursors: positional or keyset)
        recs, nxt = v2_page(ctx, memo(ctx, lambda: _att_sorted(c, f)), limit)
    else:
        # default order (person, then time): the cursor is (person, index of the person's period), which
        # deletes and inserts elsewhere in the list do not move
        cur = ctx.get("cursor")
        state = tuple(decode_cursor(cur)[:2]) if cur else (0, 0)
        recs, nxt = attendance_page(c, f, state, limit)
    return 200, {"_data": recs, "_meta": {"links": links(ctx, nxt, ctx.relative_attendance_links)}}


def h_v2_attendance_period(ctx: Ctx):
    c = ctx.company
    pj = D.Attendance.parse_id(ctx.match["id"])
    r = None
    if pj and 0 <= pj[0] < len(c.person_order) and c.person_order[pj[0]] in c.employees:
        r = c.attendance.record(*pj)
        if r is not None and r["id"] != ctx.match["id"]:
            r = None
    if r is None:
        raise v2_error(404, "The requested attendance period was not found")
    return 200, r
