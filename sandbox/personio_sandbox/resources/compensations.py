"""v2 compensations (monthly items generated from salary history) and compensation types."""
from __future__ import annotations

import calendar
import datetime as _dt

from .. import data as D
from ..context import Ctx, memo, parse_date, v2_bad
from ..data import DAY, iso_z, day_str
from ..errors import v2_error
from ..filters import simple_filter
from ..model import employee_currency, month_bounds
from ..paging import v2_limit, v2_list


def compensation_items(c: D.Company, start: int, end: int) -> list[tuple[tuple, dict]]:
    """(key, record) of every compensation item with an effective date in [start, end]: the generated monthly
    items (key (employee id, month start, type index)) with their changes (``Company.comp_overrides``) and
    the back-dated created ones (``Company.comp_extra``, key ("x", id))."""
    out = []
    types = c.compensation_types
    m_start, _ = month_bounds(start)
    months = []
    t = m_start
    while t <= end:
        ms, me = month_bounds(t)
        months.append((ms, me))
        t = me + DAY
    overrides = c.comp_overrides
    extra: dict[int, list[dict]] = {}
    for x in c.comp_extra:
        if start <= x["effective_ts"] <= end:
            extra.setdefault(x["employee_id"], []).append(x)
    for eid in c.person_order:
        e = c.employees.get(eid)
        if e is None:
            continue
        # created items are listed with their person's others (list order is not documented)
        for x in extra.get(eid, ()):
            ctype = types[x["type_index"]]
            out.append((("x", x["id"]), {"id": x["id"], "person": {"id": str(eid)},
                                         "legal_entity": {"id": e["legal_entity_id"]}, "type": {"id": ctype["id"]},
                                         "value": {"amount": x["amount"], "currency": employee_currency(c, e)}, "interval": "ONE_TIME",
                                         "effective_date": day_str(x["effective_ts"]),
                                         "created_at": iso_z(x["created_ts"]), "updated_at": iso_z(x["updated_ts"])}))
        for ms, me in months:
            if e["hire_ts"] > me or (e["term_ts"] and e["term_ts"] < ms):
                continue
            eff = max(ms, e["hire_ts"] - e["hire_ts"] % DAY)
            if eff < start or eff > end:
                continue
            ym = day_str(ms)[:7].replace("-", "")
            salary, changed = D.salary_at(e, ms)
            # stable per record; moves only when the salary in force for this month is changed (mutate)
            created = max(e["created_ts"], min(ms - 5 * DAY, D.BASE_EPOCH - 3600))
            updated = max(created, changed) if changed else created
            recs = [(0, salary)]
            if day_str(ms)[5:7] in ("03", "12") and D._mix(c.seed, eid, ms) % 3 == 0:
                recs.append((2, round(salary * 0.5)))
            for ti, amount in recs:
                key = (eid, ms, ti)
                upd = updated
                if key in overrides:
                    ov = overrides[key]
                    if ov is None:
                        continue  # deleted: a removed item simply stops appearing (§10.5)
                    amount, upd = ov["amount"], max(upd, ov["updated_ts"])
                ctype = types[ti]
                out.append((key, {"id": "%s-%d-%s" % (ym, eid, ctype["id"][:8]), "person": {"id": str(eid)},
                                  "legal_entity": {"id": e["legal_entity_id"]}, "type": {"id": ctype["id"]},
                                  "value": {"amount": amount, "currency": employee_currency(c, e)},
                                  "interval": "MONTHLY" if ti == 0 else "ONE_TIME", "effective_date": day_str(eff),
                                  "created_at": iso_z(created), "updated_at": iso_z(upd)}))
    return out


def compensations_for(c: D.Company, start: int, end: int) -> list[dict]:
    return [r for _k, r in compensation_items(c, start, end)]


def h_v2_compensations(ctx: Ctx):
    c = ctx.company
    sd, ed = ctx.get("start_date"), ctx.get("end_date")
    if not sd and not ed:
        start, end = month_bounds(c.now())
    else:
        start = parse_date(sd, v2_bad) if sd else None
        end = parse_date(ed, v2_bad) if ed else None
        if start is None:
            start = end - 30 * DAY
        if end is None:
            end = start + 30 * DAY
        if end < start:
            raise v2_error(400, "end_date must not be before start_date")
        if end - start > 31 * DAY or _month_delta(start, end) > 1:
            raise v2_error(400, "The date range between start_date and end_date must not exceed one month")
    v2_limit(ctx, 100, 100)
    items = memo(ctx, lambda: simple_filter(ctx, compensations_for(c, start, end), {
        "person.id": lambda x: x["person"]["id"], "legal_entity.id": lambda x: x["legal_entity"]["id"]}))
    return v2_list(ctx, items, lambda x: x, 100, 100)


def _month_delta(a: int, b: int) -> int:
    """1 if b is on or after the same day one calendar month after a, else 0."""
    da = _dt.datetime.fromtimestamp(a, _dt.timezone.utc)
    y, m = da.year + (da.month == 12), da.month % 12 + 1
    nxt = _dt.datetime(y, m, min(da.day, calendar.monthrange(y, m)[1]), tzinfo=_dt.timezone.utc)
    return 2 if b >= int(nxt.timestamp()) else 0


def h_v2_compensation_types(ctx: Ctx):
    return v2_list(ctx, ctx.company.compensation_types, v2_compensation_type, 100, 100)


def v2_compensation_type(t: dict) -> dict:
    return {"id": t["id"], "name": t["name"], "category": t["category"]}
