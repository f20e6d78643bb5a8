"""Data changes between syncs: create / update / delete records, advancing the sandbox clock."""
from __future__ import annotations

from . import data as D

RESOURCES = ["employees", "absences", "attendance_periods", "projects", "candidates", "applications"]


def mutate(c: D.Company, create: int, update: int, delete: int, resources=None) -> dict:
    rng = c.rng
    res = list(resources) if resources else list(RESOURCES)
    unknown = [r for r in res if r not in RESOURCES]
    if unknown:
        raise ValueError("unknown resources %s (known: %s)" % (unknown, RESOURCES))
    # move the clock past everything existing
    c.clock = max(c.clock, D.BASE_EPOCH) + 60
    out = {"created": {}, "updated": {}, "deleted": {}}
    for r in res:
        fn = globals()["_m_" + r]
        cr, up, de = fn(c, rng, create, update, delete)
        out["created"][r], out["updated"][r], out["deleted"][r] = cr, up, de
    c.version += 1
    return out


def _touch_emp(c: D.Company, e: dict, changed=()) -> int:
    ts = c.tick()
    e["updated_ts"] = ts
    at = e.setdefault("attr_ts", {})
    for k in changed:
        at[k] = ts
    for m in e["employments"]:
        m["updated_ts"] = ts
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
    frm = D.month_start(c.clock)
    if hist[-1][0] == frm:
        hist[-1] = (frm, amount, ts)
    else:
        hist.append((frm, amount, ts))
    e["fix_salary"] = amount


def _m_employees(c, rng, create, update, delete):
    created, updated, deleted = [], [], []
    for _ in range(create):
        eid = max(c.employees) + 1 if c.employees else 10001
        eid = max(eid, max(c.person_order) + 1 if c.person_order else eid)
        ts = c.tick()
        e = D.make_employee(c, rng, eid, ts - ts % D.DAY, ts)
        e["updated_ts"] = ts
        e["status"] = "onboarding"
        e["term_ts"] = 0
        e["termination_type"] = e["termination_reason"] = None
        e["supervisor_id"] = next((i for i in c.person_order if i in c.employees), None)
        e["attr_ts"] = {}  # every attribute dates from the creation
        for m in e["employments"]:
            m["created_ts"] = m["updated_ts"] = ts
        c.employees[eid] = e
        c.person_order.append(eid)
        created.append(eid)
    alive = [i for i in c.person_order if i in c.employees and i not in created]
    for eid in rng.sample(alive, min(update, len(alive))):
        e = c.employees[eid]
        e["position"] = rng.choice(D.POSITIONS)
        ts = _touch_emp(c, e, ("position", "fix_salary"))
        _raise_salary(c, e, e["fix_salary"] + 100, ts)
        updated.append(eid)
    alive = [i for i in alive if i not in updated]
    # Delete people nobody reports to, so that no other record changes silently (its supervisor attribute
    # would vanish without last_modified_at moving); fall back to anyone.
    bosses = {x["supervisor_id"] for x in c.employees.values()}
    leaves = [i for i in alive if i not in bosses]
    alive = leaves if len(leaves) >= delete else alive
    for eid in rng.sample(alive, min(delete, len(alive))):
        del c.employees[eid]
        for other in c.employees.values():
            if other["supervisor_id"] == eid:  # only in the fallback: this record changes, so it moves
                other["supervisor_id"] = None
                _touch_emp(c, other, ("supervisor",))
        for aid in [a["id"] for a in c.absences.values() if a["employee_id"] == eid]:
            del c.absences[aid]
        deleted.append(eid)
    if create or update or delete:
        for r in c.reports:  # custom reports are computed from current employee data: they were refreshed
            r["refreshed_ts"] = c.clock
    return created, updated, deleted


def _m_absences(c, rng, create, update, delete):
    created, updated, deleted = [], [], []
    alive = [i for i in c.person_order if i in c.employees]
    for _ in range(create):
        if not alive:
            break
        eid = rng.choice(alive)
        t = rng.choice(c.time_off_types)
        ts = c.tick()
        aid = max(c.absences, default=500000) + 1
        start = ts - ts % D.DAY + rng.randrange(1, 30) * D.DAY
        hourly = t["unit"] == "hour"
        start, end = D.workday_span(start, 1 if hourly else rng.randrange(1, 5))
        c.absences[aid] = {
            "id": aid, "uuid": D.det_uuid(rng), "employee_id": eid, "type_id": t["id"], "unit": t["unit"],
            "start_day": start, "end_day": end,
            "half_day_start": False, "half_day_end": False, "start_min": 10 * 60 if hourly else 0,
            "minutes": 120 if hourly else 0, "status": "pending", "comment": "created by mutate",
            "created_ts": ts, "updated_ts": ts, "created_by": "API", "origin": "api"}
        created.append(aid)
    pool = [a for a in c.absences if a not in created]
    for aid in rng.sample(pool, min(update, len(pool))):
        a = c.absences[aid]
        a["status"] = "approved" if a["status"] != "approved" else "pending"
        a["comment"] = "updated by mutate"
        a["updated_ts"] = c.tick()
        updated.append(aid)
    pool = [a for a in pool if a not in updated]
    for aid in rng.sample(pool, min(delete, len(pool))):
        del c.absences[aid]
        deleted.append(aid)
    return created, updated, deleted


def _m_attendance_periods(c, rng, create, update, delete):
    att = c.attendance
    created, updated, deleted = [], [], []
    alive = [p for p, i in enumerate(c.person_order) if i in c.employees]
    if not alive:
        return created, updated, deleted
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
        created.append(ex[-1]["id"])
    for kind, n, target in (("update", update, updated), ("delete", delete, deleted)):
        tries = 0
        while len(target) < n and tries < n * 20:
            tries += 1
            p = rng.choice(alive)
            cnt = att.base_count(p)
            if cnt == 0:
                continue
            j = rng.randrange(cnt)
            r = att.record(p, j)
            if r is None or r["id"] in created or r["id"] in updated:
                continue
            if kind == "update":
                r = dict(r, comment="updated by mutate", updated_at=D.iso_z(c.tick()))
                att.overlay[(p, j)] = r
            else:
                att.overlay[(p, j)] = None
            att.overlay_by_person.setdefault(p, set()).add(j)
            target.append(r["id"])
    return created, updated, deleted


def _m_projects(c, rng, create, update, delete):
    created, updated, deleted = [], [], []
    for i in range(create):
        ts = c.tick()
        p = {"id": D.det_uuid(rng), "name": "Project New %d" % (len(c.projects) + 1),
             "project_code": "P-%04d" % (len(c.projects) + 1), "status": "ACTIVE", "parent_id": None,
             "created_ts": ts, "updated_ts": ts}
        c.projects.append(p)
        created.append(p["id"])
    pool = [p for p in c.projects if p["id"] not in created]
    for p in rng.sample(pool, min(update, len(pool))):
        p["name"] += " (renamed)"
        p["updated_ts"] = c.tick()
        updated.append(p["id"])
    # projects with sub-projects or tracked attendance are not deleted (no dangling references)
    tracked = set(c.attendance.project_ids) if c.attendance else set()
    pool = [p for p in pool if p["id"] not in updated and p["id"] not in tracked
            and not any(q["parent_id"] == p["id"] for q in c.projects)]
    for p in rng.sample(pool, min(delete, len(pool))):
        c.projects.remove(p)
        deleted.append(p["id"])
    return created, updated, deleted


def _m_candidates(c, rng, create, update, delete):
    created, updated, deleted = [], [], []
    for _ in range(create):
        ts = c.tick()
        n = len(c.candidates) + 1
        cid = str(max((int(x["id"]) for x in c.candidates), default=2000000) + 1)
        c.candidates.append({"id": cid, "first_name": rng.choice(D.FIRST), "last_name": rng.choice(D.LAST),
                             "email": "candidate-new%d@applicants.example" % n, "gender": "FEMALE",
                             "phone": "+49 30 1234567", "location": "Berlin", "created_ts": ts, "updated_ts": ts,
                             "application_ids": []})
        created.append(cid)
    pool = [x for x in c.candidates if x["id"] not in created]
    for x in rng.sample(pool, min(update, len(pool))):
        x["location"] = rng.choice(D.CITIES)[0]
        x["updated_ts"] = c.tick()
        updated.append(x["id"])
    pool = [x for x in pool if x["id"] not in updated and not x["application_ids"]]
    for x in rng.sample(pool, min(delete, len(pool))):
        c.candidates.remove(x)
        deleted.append(x["id"])
    return created, updated, deleted


def _m_applications(c, rng, create, update, delete):
    created, updated, deleted = [], [], []
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
        created.append(aid)
    pool = [a for a in c.applications if a["id"] not in created]
    for a in rng.sample(pool, min(update, len(pool))):
        cat = next(x for x in c.recruiting_categories if x["id"] == c_job(c, a)["category_id"])
        ts = c.tick()
        cur = a["transitions"][-1]["stage"]
        idx = next(i for i, s in enumerate(cat["stages"]) if s["id"] == cur["id"])
        a["transitions"].append({"ts": ts, "stage": cat["stages"][min(idx + 1, len(cat["stages"]) - 1)]})
        a["updated_ts"] = ts
        updated.append(a["id"])
    pool = [a for a in pool if a["id"] not in updated]
    for a in rng.sample(pool, min(delete, len(pool))):
        c.applications.remove(a)
        for cand in c.candidates:
            if a["id"] in cand["application_ids"]:
                cand["application_ids"].remove(a["id"])
                cand["updated_ts"] = c.tick()  # its applications list changed
        deleted.append(a["id"])
    return created, updated, deleted


def c_job(c, a):
    return next(j for j in c.jobs if j["id"] == a["job_id"])
