"""Data changes: create / update / delete records of one resource, stamped by the sandbox clock.

A mutation is a dict (the body of ``POST /_sandbox/mutate``, a trigger's ``mutation``, one entry of the
churn mix)::

    {"resource": "employees", "create": 1, "update": 5, "delete": 1, "seed": 7,
     "update_ids": [10003], "delete_ids": [10004], "ids": [...], "position": 0}

* ``resource`` (or ``resources``, a list): names in ``MUTATORS``; without either, ``DEFAULT_RESOURCES``.
* ``seed``: the random choices (which records, new values, ids) come from ``random.Random(seed)``;
  without it from the company's own RNG (seeded from ``--seed``, so a run is reproducible as a whole).
* ``update_ids`` / ``delete_ids``: exactly these records (ids as the API shows them; unknown ones are
  skipped); ``ids``: choose the updated/deleted records among these only.
* ``position``: where created records land in their list's order (an index into the current list,
  ``"end"`` or ``"random"``); default ``Company.options["insert_at"]`` (``"random"``: Personio does not
  document the order of its lists, so the sandbox does not promise that new records come last).

What an update means per resource (which timestamps move) is documented on each mutator and in
``sandbox/README.md``.
"""
from __future__ import annotations

import random

from . import clock as _clock
from . import data as D
from .model import month_bounds
from .resources.compensations import compensation_items


DEFAULT_RESOURCES = ["employees", "absences", "attendance_periods", "projects", "candidates", "applications"]
INSERT_AT = ("random", "end")


class Batch:
    """One resource's share of a mutation: the random choices, the affected ids and the change log."""

    def __init__(self, c: D.Company, resource: str, rng: random.Random, spec: dict):
        self.c, self.resource, self.rng = c, resource, rng
        self.created: list = []
        self.updated: list = []
        self.deleted: list = []
        self.log: list[dict] = []
        self.ids = spec.get("ids")
        self.update_ids = spec.get("update_ids")
        self.delete_ids = spec.get("delete_ids")
        self.position = spec.get("position", c.options.get("insert_at", "random"))

    def add(self, op: str, rid, ts: int | None = None, **extra) -> None:
        {"create": self.created, "update": self.updated, "delete": self.deleted}[op].append(rid)
        ts = self.c.now() if ts is None else ts
        self.log.append(dict({"resource": self.resource, "op": op, "id": rid, "at": D.iso_z(ts)}, **extra))

    def pick(self, op: str, pool: list, n: int, key=lambda x: x) -> list:
        """``n`` records of ``pool`` to update/delete: the explicit ids if given, else a seeded sample."""
        explicit = self.update_ids if op == "update" else self.delete_ids
        if explicit is not None:
            want = [str(i) for i in explicit]
            by = {str(key(x)): x for x in pool}
            return [by[i] for i in want if i in by]
        if self.ids is not None:
            allowed = {str(i) for i in self.ids}
            pool = [x for x in pool if str(key(x)) in allowed]
        return self.rng.sample(pool, min(n, len(pool)))

    def insert_index(self, length: int) -> int:
        p = self.position
        if p == "end" or length == 0:
            return length
        if p == "random":
            return self.rng.randrange(length + 1)
        return max(0, min(int(p), length))


# ---------------------------------------------------------------- helpers
def _alive(c: D.Company) -> list[int]:
    return [i for i in c.person_order if i in c.employees]


def _touch_emp(c: D.Company, e: dict, changed=(), ts: int | None = None, employments: bool = True,
               person: bool = False) -> int:
    """Stamp a change of employee ``e``: v1 ``last_modified_at`` (+ the changed attributes' change times),
    its employments' ``updated_at`` if the change is of employment data, the v2 person's ``updated_at``
    only if it is of person data."""
    ts = c.tick() if ts is None else ts
    e["updated_ts"] = ts
    at = e.setdefault("attr_ts", {})
    for k in changed:
        at[k] = ts
    if employments:
        for m in e["employments"]:
            m["updated_ts"] = ts
    if person:
        e["person_ts"] = ts
    e["rendered_v1"] = None
    for other in c.employees.values():  # supervisors embed names
        if other["supervisor_id"] == e["id"]:
            other["rendered_v1"] = None
    return ts


def _raise_salary(c: D.Company, e: dict, amount: int, ts: int) -> None:
    """A new fix salary from the current month on; earlier months keep theirs (v2 compensations)."""
    hist = e.setdefault("salary_history", [])
    if not hist:
        hist.append((0, e["fix_salary"], None))
    frm = D.month_start(c.now())
    if hist[-1][0] == frm:
        hist[-1] = (frm, amount, ts)
    else:
        hist.append((frm, amount, ts))
    e["fix_salary"] = amount


def _refresh_reports(c: D.Company, ts: int) -> None:
    for r in c.reports:  # custom reports are computed from current employee data: they were refreshed
        r["refreshed_ts"] = ts


def _new_employee(c: D.Company, b: Batch) -> int:
    eid = max(c.employees) + 1 if c.employees else 10001
    eid = max(eid, max(c.person_order) + 1 if c.person_order else eid)
    ts = c.tick()
    e = D.make_employee(c, b.rng, eid, ts - ts % D.DAY, ts)
    e["updated_ts"] = e["person_ts"] = ts
    e["status"] = "onboarding"
    e["term_ts"] = 0
    e["termination_type"] = e["termination_reason"] = None
    e["supervisor_id"] = next((i for i in c.person_order if i in c.employees), None)
    e["attr_ts"] = {}  # every attribute dates from the creation
    for m in e["employments"]:
        m["created_ts"] = m["updated_ts"] = ts
    c.employees[eid] = e
    c.person_order.append(eid)
    c.emp_order.insert(b.insert_index(len(c.emp_order)), eid)
    b.add("create", eid, ts)
    return eid


def _delete_employees(c: D.Company, b: Batch, delete: int, exclude) -> None:
    alive = [i for i in _alive(c) if i not in exclude]
    # Delete people nobody reports to, so that no other record changes silently (its supervisor attribute
    # would vanish without last_modified_at moving); fall back to anyone.
    bosses = {x["supervisor_id"] for x in c.employees.values()}
    leaves = [i for i in alive if i not in bosses]
    pool = leaves if len(leaves) >= delete else alive
    if b.delete_ids is not None:
        pool = alive
    for eid in b.pick("delete", pool, delete):
        del c.employees[eid]
        for other in c.employees.values():
            if other["supervisor_id"] == eid:  # only in the fallback: this record changes, so it moves
                other["supervisor_id"] = None
                _touch_emp(c, other, ("supervisor",))
        b.add("delete", eid)
        for a in [a for a in c.absences.values() if a["employee_id"] == eid]:
            del c.absences[a["id"]]
            b.log.append({"resource": "absences" if a["unit"] == "day" else "absence_periods", "op": "delete",
                          "id": a["id"] if a["unit"] == "day" else a["uuid"], "at": D.iso_z(c.now()),
                          "cascade": "employee %d deleted" % eid})


# ---------------------------------------------------------------- employees / persons / employments
def _m_employees(c: D.Company, b: Batch, create: int, update: int, delete: int) -> None:
    """v1 employees: a change of a v1 employee that touches person and employment data alike. update:
    ``position`` (employment data), ``fix_salary`` (+100 from the current month on) and the custom attribute
    ``dynamic_103`` (person data) change, so v1 ``last_modified_at``, the employments' ``updated_at`` and the
    v2 person's ``updated_at`` all move (``employments`` / ``persons`` change one side only). delete: the
    person and its absences are gone (attendance, compensations and balances of the person disappear with it)."""
    for _ in range(create):
        _new_employee(c, b)
    alive = [i for i in _alive(c) if i not in b.created]
    for eid in b.pick("update", alive, update):
        e = c.employees[eid]
        e["position"] = b.rng.choice(D.POSITIONS)
        e["dynamic"]["dynamic_103"] = (int(e["dynamic"].get("dynamic_103") or 0) + 1) % 4
        ts = _touch_emp(c, e, ("position", "fix_salary", "dynamic_103"), employments=True, person=True)
        _raise_salary(c, e, e["fix_salary"] + 100, ts)
        b.add("update", eid, ts)
    _delete_employees(c, b, delete, set(b.created) | set(b.updated))
    if create or update or delete:
        _refresh_reports(c, c.now())


def _m_persons(c: D.Company, b: Batch, create: int, update: int, delete: int) -> None:
    """v2 persons. update: ``preferred_name`` and the custom attribute ``dynamic_107`` (Notes) change: the
    person's ``updated_at`` and v1 ``last_modified_at`` move, the employments' ``updated_at`` do not.
    create/delete as employees."""
    for _ in range(create):
        _new_employee(c, b)
    alive = [i for i in _alive(c) if i not in b.created]
    for eid in b.pick("update", alive, update):
        e = c.employees[eid]
        full = "%s %s" % (e["first_name"], e["last_name"])
        e["preferred_name"] = e["first_name"] if e["preferred_name"] != e["first_name"] else full
        e["dynamic"]["dynamic_107"] = "Changed %s" % D.iso_z(c.now())
        ts = _touch_emp(c, e, ("preferred_name", "dynamic_107"), employments=False, person=True)
        b.add("update", eid, ts)
    _delete_employees(c, b, delete, set(b.created) | set(b.updated))
    if create or update or delete:
        _refresh_reports(c, c.now())


def _m_employments(c: D.Company, b: Batch, create: int, update: int, delete: int) -> None:
    """v2 employments, WITHOUT touching the person's ``updated_at`` (§10.4: no source says employment
    changes move it; ``options["employment_touches_person"]`` makes them move it). update: the person's
    ``weekly_working_hours`` and the chosen employment's job change: every employment of that person shows
    the hours, so all their ``updated_at`` move, and so does v1 ``last_modified_at`` (v1 shows the hours).
    create: a further employment of an existing person (the person's ``employments`` list grows).
    delete: an employment of a person who has more than one (a person keeps at least one)."""
    touch_person = bool(c.options.get("employment_touches_person"))
    alive = _alive(c)
    for _ in range(create):
        if not alive:
            break
        e = c.employees[b.rng.choice(alive)]
        ts = c.tick()
        m = {"id": D.det_uuid(b.rng), "created_ts": ts, "updated_ts": ts, "job_id": D.det_uuid(b.rng)}
        e["employments"].append(m)
        if touch_person:
            e["person_ts"] = ts
        b.add("create", m["id"], ts, person_id=str(e["id"]))
    pool = [(e, m) for e in (c.employees[i] for i in alive) for m in e["employments"] if m["id"] not in b.created]
    done = set()
    for e, m in b.pick("update", pool, update, key=lambda x: x[1]["id"]):
        if e["id"] in done:
            continue
        done.add(e["id"])
        choices = [h for h in (40, 32, 30, 20) if h != e["weekly_working_hours"]]
        e["weekly_working_hours"] = b.rng.choice(choices)
        m["job_id"] = D.det_uuid(b.rng)
        ts = _touch_emp(c, e, ("weekly_working_hours",), employments=True, person=touch_person)
        b.add("update", m["id"], ts, person_id=str(e["id"]))
    pool = [(e, m) for e, m in pool if len(e["employments"]) > 1 and m["id"] not in b.updated]
    for e, m in b.pick("delete", pool, delete, key=lambda x: x[1]["id"]):
        if len(e["employments"]) < 2:
            continue
        e["employments"].remove(m)
        if touch_person:
            e["person_ts"] = c.tick()
        b.add("delete", m["id"], person_id=str(e["id"]))


# ---------------------------------------------------------------- absences
def _absences_of_unit(c: D.Company, b: Batch, unit: str, create: int, update: int, delete: int) -> None:
    alive = _alive(c)
    types = [t for t in c.time_off_types if t["unit"] == unit]
    key = (lambda a: a["id"]) if unit == "day" else (lambda a: a["uuid"])
    for _ in range(create):
        if not alive:
            break
        eid = b.rng.choice(alive)
        t = b.rng.choice(types)
        ts = c.tick()
        aid = max(c.absences, default=500000) + 1
        start = ts - ts % D.DAY + b.rng.randrange(1, 30) * D.DAY
        hourly = unit == "hour"
        start, end = D.workday_span(start, 1 if hourly else b.rng.randrange(1, 5))
        rec = {
            "id": aid, "uuid": D.det_uuid(b.rng), "employee_id": eid, "type_id": t["id"], "unit": unit,
            "start_day": start, "end_day": end,
            "half_day_start": False, "half_day_end": False, "start_min": 10 * 60 if hourly else 0,
            "minutes": 120 if hourly else 0, "status": "pending", "comment": "created by mutate",
            "created_ts": ts, "updated_ts": ts, "created_by": "API", "origin": "api"}
        items = list(c.absences.items())
        same = [i for i, (_k, a) in enumerate(items) if a["unit"] == unit]
        at = b.insert_index(len(same))
        pos = same[at] if at < len(same) else len(items)
        items.insert(pos, (aid, rec))
        c.absences.clear()
        c.absences.update(items)
        b.add("create", key(rec), ts)
    pool = [a for a in c.absences.values() if a["unit"] == unit and key(a) not in b.created]
    for a in b.pick("update", pool, update, key):
        a["status"] = "approved" if a["status"] != "approved" else "pending"
        a["comment"] = "updated by mutate"
        a["updated_ts"] = c.tick()
        b.add("update", key(a), a["updated_ts"])
    pool = [a for a in pool if key(a) not in b.updated]
    for a in b.pick("delete", pool, delete, key):
        del c.absences[a["id"]]
        b.add("delete", key(a))


def _m_absences(c, b, create, update, delete):
    """v1 time-offs (day-unit absences; also v2 absence periods). update: status and comment change; the
    time-off's ``updated_at`` (v1 and v2) moves. Ids: v1 integer ids."""
    _absences_of_unit(c, b, "day", create, update, delete)


def _m_absence_periods(c, b, create, update, delete):
    """Hour-unit absences (v1 absence-periods; also v2 absence periods), as ``absences``. Ids: uuids (the
    v1 absence-period and v2 absence-period id)."""
    _absences_of_unit(c, b, "hour", create, update, delete)


# ---------------------------------------------------------------- attendance, projects
def _m_attendance_periods(c, b, create, update, delete):
    """v2 attendance periods. update: comment changes, ``updated_at`` moves."""
    att = c.attendance
    rng = b.rng
    alive = [p for p, i in enumerate(c.person_order) if i in c.employees]
    if not alive:
        return
    for _ in range(create):
        p = rng.choice(alive)
        ex = att.extra.setdefault(p, [])
        ts = c.tick()
        day = D.BASE_EPOCH + len(ex) * D.DAY  # one new WORK period per new day after the base year
        ds = D.day_str(day)
        j = att.base_count(p) + len(ex)
        eid = c.person_order[p]
        ex.append({"id": att.make_id(p, j), "type": "WORK", "person": {"id": str(eid)},
                   "approval": {"status": "PENDING"}, "start": {"date_time": ds + "T09:00:00"},
                   "end": {"date_time": ds + "T17:00:00"}, "attribution_date": ds, "comment": "created by mutate",
                   "project": None, "is_auto_generated": False, "is_holiday": False, "is_on_time_off": False,
                   "created_at": D.iso_z(ts), "updated_at": D.iso_z(ts)})
        b.add("create", ex[-1]["id"], ts)
    for kind, n in (("update", update), ("delete", delete)):
        explicit = b.update_ids if kind == "update" else b.delete_ids
        targets = []
        if explicit is not None:
            for rid in explicit:
                pj = D.Attendance.parse_id(str(rid))
                if pj and 0 <= pj[0] < len(c.person_order) and c.person_order[pj[0]] in c.employees:
                    r = att.record(*pj)
                    if r is not None and r["id"] == str(rid):
                        targets.append(pj)
        else:
            allowed = {str(i) for i in b.ids} if b.ids is not None else None
            tries = 0
            while len(targets) < n and tries < n * 50:
                tries += 1
                p = rng.choice(alive)
                cnt = att.base_count(p)
                if cnt == 0:
                    continue
                j = rng.randrange(cnt)
                r = att.record(p, j)
                if (r is None or r["id"] in b.created or r["id"] in b.updated or (p, j) in targets
                        or (allowed is not None and r["id"] not in allowed)):
                    continue
                targets.append((p, j))
        for p, j in targets:
            r = att.record(p, j)
            if kind == "update":
                ts = c.tick()
                r = dict(r, comment="updated by mutate", updated_at=D.iso_z(ts))
                att.overlay[(p, j)] = r
                b.add("update", r["id"], ts)
            else:
                att.overlay[(p, j)] = None
                b.add("delete", r["id"])
            att.overlay_by_person.setdefault(p, set()).add(j)


def _m_projects(c, b, create, update, delete):
    """v2 projects. update: the name changes, ``updated_at`` moves. Projects with sub-projects or tracked
    attendance are never deleted (no dangling references)."""
    for _ in range(create):
        ts = c.tick()
        p = {"id": D.det_uuid(b.rng), "name": "Project New %d" % (len(c.projects) + 1),
             "project_code": "P-%04d" % (len(c.projects) + 1), "status": "ACTIVE", "parent_id": None,
             "created_ts": ts, "updated_ts": ts}
        c.projects.insert(b.insert_index(len(c.projects)), p)
        b.add("create", p["id"], ts)
    pool = [p for p in c.projects if p["id"] not in b.created]
    for p in b.pick("update", pool, update, lambda p: p["id"]):
        p["name"] += " (renamed)"
        p["updated_ts"] = c.tick()
        b.add("update", p["id"], p["updated_ts"])
    tracked = set(c.attendance.project_ids) if c.attendance else set()
    pool = [p for p in pool if p["id"] not in b.updated and p["id"] not in tracked
            and not any(q["parent_id"] == p["id"] for q in c.projects)]
    for p in b.pick("delete", pool, delete, lambda p: p["id"]):
        c.projects.remove(p)
        b.add("delete", p["id"])


# ---------------------------------------------------------------- compensations
def _past_months(c: D.Company, e: dict) -> list[int]:
    """Month starts of the (up to) twelve months before the current one in which ``e`` was employed."""
    cur = D.month_start(c.now())
    out, t = [], cur
    for _ in range(12):
        t = D.month_start(t - D.DAY)
        if e["hire_ts"] <= month_bounds(t)[1] and not (e["term_ts"] and e["term_ts"] < t):
            out.append(t)
    return out


def _comp_items_of(c: D.Company, eid: int, ms: int) -> list[tuple]:
    _s, me = month_bounds(ms)
    return [(k, r) for k, r in compensation_items(c, ms, me) if r["person"]["id"] == str(eid)]


def _comp_by_id(c: D.Company, rid: str):
    """(key, record) of the compensation item with id ``rid`` (ids start with YYYYMM-<person id>-)."""
    try:
        ym, eid = rid.split("-")[:2]
        ms = D.day_epoch("%s-%s-01" % (ym[:4], ym[4:6]))
        eid = int(eid)
    except (ValueError, IndexError):
        return None
    return next(((k, r) for k, r in _comp_items_of(c, eid, ms) if r["id"] == rid), None)


def _pick_comp(c: D.Company, b: Batch, op: str, n: int, exclude: set) -> list[tuple]:
    explicit = b.update_ids if op == "update" else b.delete_ids
    if explicit is not None:
        found = [_comp_by_id(c, str(i)) for i in explicit]
        return [x for x in found if x is not None]
    if b.ids is not None:
        found = [_comp_by_id(c, str(i)) for i in b.ids]
        pool = [x for x in found if x is not None and x[1]["id"] not in exclude]
        return b.rng.sample(pool, min(n, len(pool)))
    alive = _alive(c)
    out, tries = [], 0
    while len(out) < n and alive and tries < n * 50:
        tries += 1
        e = c.employees[b.rng.choice(alive)]
        months = _past_months(c, e)
        if not months:
            continue
        items = [x for x in _comp_items_of(c, e["id"], b.rng.choice(months))
                 if x[1]["id"] not in exclude and all(x[1]["id"] != y[1]["id"] for y in out)]
        if items:
            out.append(b.rng.choice(items))
    return out


def _m_compensations(c, b, create, update, delete):
    """v2 compensations, back-dated (a correction of a past month, as payroll does). update: the amount of
    an existing item of one of the twelve months before the current one changes and its ``updated_at``
    moves; the months after keep theirs and v1 ``fix_salary`` (the current month's) is unchanged. create:
    a new one-time item (Commission) with an effective date in such a past month. delete: an item of a
    past month stops appearing (§10.5: "a deleted or zeroed item simply stops appearing")."""
    alive = _alive(c)
    for _ in range(create):
        if not alive:
            break
        e = c.employees[b.rng.choice(alive)]
        months = _past_months(c, e)
        if not months:
            continue
        ms = b.rng.choice(months)
        me = month_bounds(ms)[1]
        eff = max(ms, e["hire_ts"] - e["hire_ts"] % D.DAY)
        eff = min(me, eff + b.rng.randrange(0, 20) * D.DAY)
        ts = c.tick()
        rid = "%s-%d-x%07d" % (D.day_str(ms)[:7].replace("-", ""), e["id"], len(c.comp_extra) + 1)
        c.comp_extra.append({"id": rid, "employee_id": e["id"], "type_index": 3, "effective_ts": eff,
                             "amount": b.rng.randrange(100, 2000, 50), "created_ts": ts, "updated_ts": ts})
        b.add("create", rid, ts, effective_date=D.day_str(eff))
    for key, rec in _pick_comp(c, b, "update", update, set(b.created)):
        ts = c.tick()
        amount = rec["value"]["amount"] + b.rng.choice((-150, -50, 50, 150, 250))
        if key[0] == "x":
            x = next(x for x in c.comp_extra if x["id"] == key[1])
            x["amount"], x["updated_ts"] = amount, ts
        else:
            c.comp_overrides[key] = {"amount": amount, "updated_ts": ts}
        b.add("update", rec["id"], ts, effective_date=rec["effective_date"])
    for key, rec in _pick_comp(c, b, "delete", delete, set(b.created) | set(b.updated)):
        if key[0] == "x":
            c.comp_extra[:] = [x for x in c.comp_extra if x["id"] != key[1]]
        else:
            c.comp_overrides[key] = None
        b.add("delete", rec["id"], effective_date=rec["effective_date"])


# ---------------------------------------------------------------- recruiting
def _m_candidates(c, b, create, update, delete):
    """v2 candidates (listed newest-updated first, so an update moves a candidate to the front). update:
    location changes, ``updated_at`` moves. Only candidates without applications are deleted."""
    rng = b.rng
    for _ in range(create):
        ts = c.tick()
        n = len(c.candidates) + 1
        cid = str(max((int(x["id"]) for x in c.candidates), default=2000000) + 1)
        c.candidates.append({"id": cid, "first_name": rng.choice(D.FIRST), "last_name": rng.choice(D.LAST),
                             "email": "candidate-new%d@applicants.example" % n, "gender": "FEMALE",
                             "phone": "+49 30 1234567", "location": "Berlin", "created_ts": ts, "updated_ts": ts,
                             "application_ids": []})
        b.add("create", cid, ts)
    pool = [x for x in c.candidates if x["id"] not in b.created]
    for x in b.pick("update", pool, update, lambda x: x["id"]):
        x["location"] = rng.choice(D.CITIES)[0]
        x["updated_ts"] = c.tick()
        b.add("update", x["id"], x["updated_ts"])
    pool = [x for x in pool if x["id"] not in b.updated and not x["application_ids"]]
    for x in b.pick("delete", pool, delete, lambda x: x["id"]):
        c.candidates.remove(x)
        b.add("delete", x["id"])


def _m_applications(c, b, create, update, delete):
    """v2 applications. update: the application moves on to the next stage (a new stage transition),
    ``updated_at`` moves. delete: the candidate's ``applications`` list changes, so its ``updated_at``
    moves too."""
    rng = b.rng
    for _ in range(create):
        if not c.candidates or not c.jobs:
            break
        ts = c.tick()
        cand = rng.choice(c.candidates)
        job = rng.choice(c.jobs)
        cat = next(x for x in c.recruiting_categories if x["id"] == job["category_id"])
        aid = str(max((int(a["id"]) for a in c.applications), default=3000000) + 1)
        c.applications.append({"id": aid, "candidate_id": cand["id"], "job_id": job["id"], "application_ts": ts,
                               "created_ts": ts, "updated_ts": ts, "transitions": [{"ts": ts, "stage": cat["stages"][0]}],
                               "channel": "Career page"})
        cand["application_ids"].append(aid)
        cand["updated_ts"] = ts
        b.add("create", aid, ts)
    pool = [a for a in c.applications if a["id"] not in b.created]
    for a in b.pick("update", pool, update, lambda a: a["id"]):
        job = next(j for j in c.jobs if j["id"] == a["job_id"])
        cat = next(x for x in c.recruiting_categories if x["id"] == job["category_id"])
        ts = c.tick()
        cur = a["transitions"][-1]["stage"]
        idx = next(i for i, s in enumerate(cat["stages"]) if s["id"] == cur["id"])
        a["transitions"].append({"ts": ts, "stage": cat["stages"][min(idx + 1, len(cat["stages"]) - 1)]})
        a["updated_ts"] = ts
        b.add("update", a["id"], ts)
    pool = [a for a in pool if a["id"] not in b.updated]
    for a in b.pick("delete", pool, delete, lambda a: a["id"]):
        c.applications.remove(a)
        for cand in c.candidates:
            if a["id"] in cand["application_ids"]:
                cand["application_ids"].remove(a["id"])
                cand["updated_ts"] = c.tick()  # its applications list changed
        b.add("delete", a["id"])


MUTATORS = {
    "employees": _m_employees, "persons": _m_persons, "employments": _m_employments,
    "absences": _m_absences, "absence_periods": _m_absence_periods,
    "attendance_periods": _m_attendance_periods, "projects": _m_projects, "compensations": _m_compensations,
    "candidates": _m_candidates, "applications": _m_applications,
}
RESOURCES = list(MUTATORS)


# ---------------------------------------------------------------- entry points
def resources_of(spec: dict) -> list[str]:
    if spec.get("resource"):
        res = [spec["resource"]]
    elif spec.get("resources"):
        res = list(spec["resources"])
    else:
        res = list(DEFAULT_RESOURCES)
    unknown = [r for r in res if r not in MUTATORS]
    if unknown:
        raise ValueError("unknown resources %s (known: %s)" % (unknown, RESOURCES))
    return res


def validate(spec: dict) -> dict:
    """Check a mutation dict early (for triggers and churn, which apply it later)."""
    if not isinstance(spec, dict):
        raise ValueError("a mutation is a JSON object")
    known = {"resource", "resources", "create", "update", "delete", "seed", "ids", "update_ids", "delete_ids",
             "position"}
    extra = set(spec) - known
    if extra:
        raise ValueError("unknown mutation keys %s (known: %s)" % (sorted(extra), sorted(known)))
    resources_of(spec)
    for k in ("create", "update", "delete"):
        if int(spec.get(k, 0) or 0) < 0:
            raise ValueError("%s must not be negative" % k)
    p = spec.get("position")
    if p is not None and p not in INSERT_AT:
        int(p)
    return spec


def apply(c: D.Company, spec: dict, source: str = "mutate", request: int | None = None) -> dict:
    """Apply one mutation dict; returns {"created": {resource: ids}, "updated": …, "deleted": …, "changes": […]}."""
    validate(spec)
    res = resources_of(spec)
    rng = random.Random(spec["seed"]) if spec.get("seed") is not None else c.rng
    create, update, delete = (int(spec.get(k, 0) or 0) for k in ("create", "update", "delete"))
    out = {"created": {}, "updated": {}, "deleted": {}, "changes": []}
    with c.lock:
        _clock.begin_batch(c)
        for r in res:
            b = Batch(c, r, rng, spec)
            MUTATORS[r](c, b, create, update, delete)
            out["created"][r], out["updated"][r], out["deleted"][r] = b.created, b.updated, b.deleted
            for entry in b.log:
                entry["source"] = source
                if request is not None:
                    entry["request"] = request
                entry["seq"] = len(c.changes) + 1
                c.changes.append(entry)
                out["changes"].append(entry)
        c.version += 1
    return out


def mutate(c: D.Company, create: int = 0, update: int = 0, delete: int = 0, resources=None, **opts) -> dict:
    """The ``/_sandbox/mutate`` call: the same counts for every resource in ``resources``."""
    source, request = opts.pop("source", "mutate"), opts.pop("request", None)
    spec = dict(opts, create=create, update=update, delete=delete)
    if resources:
        spec["resources"] = list(resources)
    return apply(c, spec, source=source, request=request)
