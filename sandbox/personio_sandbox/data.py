"""Deterministic Personio company generator.

``generate_company(seed, employees) -> Company`` builds a whole company in memory: employees
(v1 attribute objects and v2 persons/employments of the same people), time-off types / v2 absence
types, absences (v1 time-offs for day-unit types, v1 absence-periods for hour-unit types, v2
absence periods + breakdowns for all), balances, document categories, custom reports, projects,
legal entities, org units, cost centers, workplaces, compensations (+ types), recruiting
(categories, jobs, candidates, applications + stage transitions) and a year of v2 attendance
periods. Attendance periods are *virtual*: they are computed on demand from (person, index), so a
10,000-employee company with a year of attendances is generated in about a second.

All generated timestamps are before the fixed base date 2026-11-01T00:00:00Z. Changes are stamped by
``Company.tick()``: with ``clock_mode="real"`` (the default) that is the UTC wall clock at the moment of
the change (see ``personio_sandbox.clock``); with ``clock_mode="base"`` the old synthetic clock that
starts at the base date and jumps forward on every mutation.

Rendering helpers for unit tests (same code the server uses; see ``personio_sandbox.api``)::

    from personio_sandbox.data import generate_company
    from personio_sandbox import api
    company = generate_company(seed=1, employees=20)
    status, body = api.render(company, "/v1/company/employees", {"limit": "5"})   # v1 page (dict)
    status, body = api.render(company, "/v2/persons", {"limit": "10"})           # v2 page (dict)
    records = api.dataset(company, "/v2/attendance-periods?person.id=10001")     # ground truth
"""
from __future__ import annotations

import bisect
import datetime as _dt
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import clock as _clock
from .clock import BASE_EPOCH


DAY = 86400
UTC = _dt.timezone.utc

FIRST = ["Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hannah", "Ivan", "Julia", "Karl",
         "Lena", "Marco", "Nina", "Oskar", "Paula", "Quentin", "Rosa", "Simon", "Tara", "Ulrich", "Vera",
         "Walter", "Xenia", "Yusuf", "Zoe", "Amir", "Bianca", "Chen", "Daria", "Emil", "Fatima", "Jonas",
         "Mia", "Noah", "Sofia", "Luca", "Emma", "Leon", "Marie", "Finn", "Lea", "Ayşe", "José", "Zoë"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
        "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun",
        "Zimmermann", "Krüger", "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Köhler", "Maier",
        "Garcia", "Rossi", "Nowak", "Yılmaz", "Kowalski", "Dubois", "Silva", "Jensen", "O'Brien"]
POSITIONS = ["Software Engineer", "Senior Software Engineer", "Product Manager", "Designer",
             "Account Executive", "Customer Success Manager", "Recruiter", "Accountant", "Data Analyst",
             "Office Manager", "Support Specialist", "Marketing Manager", "Sales Development Rep",
             "HR Generalist", "Engineering Manager", "Team Lead"]
DEPARTMENTS = ["Engineering", "Product", "Design", "Sales", "Customer Success", "Marketing", "Finance",
               "People", "Operations", "Legal", "Support", "Data"]
CITIES = [("Munich", "DE"), ("Berlin", "DE"), ("Hamburg", "DE"), ("Madrid", "ES"), ("London", "GB"),
          ("Amsterdam", "NL"), ("Vienna", "AT"), ("Zurich", "CH"), ("Dublin", "IE"), ("Milan", "IT")]
TOT = [  # name, v1 category, unit, v2 category
    ("Paid vacation", "paid_vacation", "day", "PAID_VACATION"),
    ("Sick leave", "sick_leave", "day", "SICK_LEAVE"),
    ("Unpaid vacation", "unpaid_vacation", "day", "UNPAID_VACATION"),
    ("Parental leave", "maternity_parental_leave", "day", "MATERNITY_PARENTAL_LEAVE"),
    ("Home office", "offsite_work", "day", "OFFSITE_WORK"),
    ("Child sick care", "child_care", "day", "CHILD_CARE"),
    ("Doctor's appointment", "other", "hour", "OTHER"),
    ("Overtime compensation", "other", "hour", "OTHER"),
    ("Training", "public_duty", "hour", "PUBLIC_DUTY"),
]
DOC_CATEGORIES = ["Contracts", "Payslips", "Certificates", "Performance reviews", "Onboarding",
                  "Offboarding", "Sick notes", "Training certificates", "Miscellaneous"]
# dynamic attributes: key, label, type, universal_id, options
DYNAMIC = [
    ("dynamic_101", "IBAN", "standard", "iban", []),
    ("dynamic_102", "Date of birth", "date", "date_of_birth", []),
    ("dynamic_103", "Number of children", "integer", None, []),
    ("dynamic_104", "Bonus target", "decimal", None, []),
    ("dynamic_105", "Marital status", "list", "marital_status", ["married", "single", "divorced", "widowed"]),
    ("dynamic_106", "Language skills", "tags", None, ["English", "German", "French", "Spanish", "Italian"]),
    ("dynamic_107", "Notes", "multiline", None, []),
    ("dynamic_108", "LinkedIn", "link", None, []),
    ("dynamic_109", "T-shirt size", "list", None, ["S", "M", "L", "XL"]),
]
STANDARD_ATTRS = [  # key, label, type
    ("id", "ID", "integer"), ("first_name", "First name", "standard"), ("last_name", "Last name", "standard"),
    ("preferred_name", "Name (preferred)", "standard"), ("email", "Email", "standard"),
    ("gender", "Gender", "standard"), ("status", "Status", "standard"), ("position", "Position", "standard"),
    ("supervisor", "Supervisor", "standard"), ("employment_type", "Employment type", "standard"),
    ("weekly_working_hours", "Weekly hours", "standard"), ("hire_date", "Hire date", "date"),
    ("contract_end_date", "Contract ends", "date"), ("termination_date", "Termination date", "date"),
    ("termination_type", "Termination type", "standard"),
    ("termination_reason", "Termination reason", "standard"),
    ("probation_period_end", "Probation period end", "date"), ("created_at", "created_at", "date"),
    ("last_modified_at", "Last modified", "date"), ("subcompany", "Subcompany", "standard"),
    ("office", "Office", "standard"), ("department", "Department", "standard"),
    ("team", "Team", "standard"), ("cost_centers", "Cost center", "standard"),
    ("holiday_calendar", "Public holidays", "standard"),
    ("absence_entitlement", "Absence entitlement", "standard"),
    ("work_schedule", "Work schedule", "standard"), ("fix_salary", "Fix salary", "decimal"),
    ("fix_salary_interval", "Salary interval", "standard"), ("hourly_salary", "Hourly salary", "decimal"),
    ("last_working_day", "Last day of work", "date"), ("profile_picture", "Profile Picture", "standard"),
]
ALL_ATTRIBUTE_KEYS = [a[0] for a in STANDARD_ATTRS] + [d[0] for d in DYNAMIC]
STAGES = [("NEW", "New"), ("SCREENING", "Screening"), ("INTERVIEW", "Interview"), ("OFFER", "Offer"),
          ("HIRED", "Hired"), ("REJECTED", "Rejected")]


# ---------------------------------------------------------------- time formatting
def iso_z(ts: int) -> str:
    """UTC with Z: 2026-01-05T17:30:00Z (v2 style)."""
    return _dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_CET = _dt.timezone(_dt.timedelta(hours=1))


def iso_offset(ts: int) -> str:
    """With colon offset, CET: 2026-01-05T18:30:00+01:00 (v1 employees style)."""
    return _dt.datetime.fromtimestamp(ts, _CET).isoformat()


def iso_offset_nocolon(ts: int) -> str:
    """Without colon, CET: 2026-01-05T18:30:00+0100 (v1 time-offs style)."""
    return _dt.datetime.fromtimestamp(ts, _CET).strftime("%Y-%m-%dT%H:%M:%S%z")


def day_str(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def day_epoch(s: str) -> int:
    return int(_dt.datetime.strptime(s[:10], "%Y-%m-%d").replace(tzinfo=UTC).timestamp())


def workday_span(start: int, workdays: int) -> tuple[int, int]:
    """Move start to a weekday and return (start, end) covering ``workdays`` weekdays."""
    while _dt.datetime.fromtimestamp(start, UTC).weekday() >= 5:
        start += DAY
    end, left = start, workdays - 1
    while left > 0:
        end += DAY
        if _dt.datetime.fromtimestamp(end, UTC).weekday() < 5:
            left -= 1
    return start, end


def det_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------- attendance (virtual)
YEAR_START = BASE_EPOCH - 365 * DAY
WORKDAYS = [YEAR_START + i * DAY for i in range(365)
            if _dt.datetime.fromtimestamp(YEAR_START + i * DAY, UTC).weekday() < 5]
SLOTS = 3  # WORK morning, BREAK, WORK afternoon


def _mix(*xs: int) -> int:
    h = 0x9E3779B97F4A7C15
    for x in xs:
        h ^= x & 0xFFFFFFFFFFFFFFFF
        h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h


class Attendance:
    """Virtual attendance periods: person p (index into Company.person_order) has SLOTS records per
    working day in [d0, d1) of WORKDAYS; record j is (day d0 + j // SLOTS, slot j % SLOTS). Mutations
    live in ``overlay`` ((p, j) -> record | None for deleted) and ``extra`` (p -> created records)."""

    def __init__(self, company: "Company"):
        self.c = company
        self.seed32 = company.seed & 0xFFFFFFFF
        self.overlay: dict[tuple[int, int], dict | None] = {}
        self.overlay_by_person: dict[int, set[int]] = {}
        self.extra: dict[int, list[dict]] = {}
        # projects the generated periods refer to, fixed at generation: creating or deleting projects later
        # must not re-assign the project of existing periods behind their updated_at
        self.project_ids = [p["id"] for p in company.projects]

    def day_range(self, emp: dict) -> tuple[int, int]:
        lo = bisect.bisect_left(WORKDAYS, emp["hire_ts"])
        end = emp["term_ts"] + DAY if emp["term_ts"] else BASE_EPOCH
        hi = bisect.bisect_left(WORKDAYS, end)
        return lo, max(lo, hi)

    def base_count(self, p: int) -> int:
        lo, hi = self.day_range(self.c.emp_by_index(p))
        return (hi - lo) * SLOTS

    def make_id(self, p: int, j: int) -> str:
        return "%08x-%04x-4%03x-8000-%012x" % (self.seed32, (p >> 12) & 0xFFFF, p & 0xFFF, j)

    @staticmethod
    def parse_id(s: str) -> tuple[int, int] | None:
        try:
            parts = s.split("-")
            return (int(parts[1], 16) << 12) | int(parts[2][1:], 16), int(parts[4], 16)
        except (ValueError, IndexError):
            return None

    def base_updated(self, emp: dict, d: int) -> int:
        """updated_at (epoch) of the generated periods of ``emp`` on workday index ``d``: one value per person and
        day, between 18:00 and 19:00 UTC."""
        return WORKDAYS[d] + 18 * 3600 + (_mix(self.c.seed, emp["id"], d) >> 32) % 3600

    def base_record(self, p: int, j: int) -> dict:
        emp = self.c.emp_by_index(p)
        lo, _ = self.day_range(emp)
        d = lo + j // SLOTS
        slot = j % SLOTS
        day = WORKDAYS[d]
        h = _mix(self.c.seed, emp["id"], d)
        start_min = 7 * 60 + 30 + (h % 90)           # 07:30..09:00
        lunch = 12 * 60 + ((h >> 8) % 60)            # 12:00..13:00
        brk = 30 + ((h >> 16) % 2) * 15              # 30 or 45 min
        end_min = lunch + brk + 4 * 60 + ((h >> 20) % 60)
        if slot == 0:
            a, b, typ = start_min, lunch, "WORK"
        elif slot == 1:
            a, b, typ = lunch, lunch + brk, "BREAK"
        else:
            a, b, typ = lunch + brk, end_min, "WORK"
        ds = day_str(day)
        upd = self.base_updated(emp, d)
        projects = self.project_ids
        proj = None
        if typ == "WORK" and projects and (h >> 40) % 3 == 0:
            proj = {"id": projects[(h >> 44) % len(projects)]}
        status = "CONFIRMED"
        if self.c.options.get("shapes"):  # §10.5: approval status PENDING / CONFIRMED / REJECTED
            k = _mix(h, slot) % 20
            status = "PENDING" if k < 2 else ("REJECTED" if k == 2 else "CONFIRMED")
        return {
            "id": self.make_id(p, j), "type": typ, "person": {"id": str(emp["id"])},
            "approval": {"status": status},
            "start": {"date_time": "%sT%02d:%02d:00" % (ds, a // 60, a % 60)},
            "end": {"date_time": "%sT%02d:%02d:00" % (ds, b // 60, b % 60)},
            "attribution_date": ds, "comment": "", "project": proj,
            "is_auto_generated": False, "is_holiday": False, "is_on_time_off": False,
            "created_at": iso_z(upd), "updated_at": iso_z(upd),
        }

    def record(self, p: int, j: int) -> dict | None:
        key = (p, j)
        if key in self.overlay:
            return self.overlay[key]
        n = self.base_count(p)
        if j < n:
            return self.base_record(p, j)
        ex = self.extra.get(p, [])
        return ex[j - n] if 0 <= j - n < len(ex) else None

    def candidates(self, p: int, day_lo: int, day_hi: int, j_from: int):
        """Yield j for person p in order, limited to base days [day_lo, day_hi) plus overlay/extras."""
        emp = self.c.emp_by_index(p)
        lo, hi = self.day_range(emp)
        n = (hi - lo) * SLOTS
        a = max(0, (max(day_lo, lo) - lo) * SLOTS, j_from)
        b = min(n, (min(day_hi, hi) - lo) * SLOTS)
        extra_n = len(self.extra.get(p, ()))
        touched = self.overlay_by_person.get(p)
        if not touched and not extra_n:
            return range(a, b) if a < b else range(0)
        js = set(range(a, b)) if a < b else set()
        if touched:
            js.update(j for j in touched if j >= j_from)
        js.update(j for j in range(n, n + extra_n) if j >= j_from)
        return sorted(js)


# ---------------------------------------------------------------- company
@dataclass
class Company:
    seed: int
    clock: int = BASE_EPOCH
    employees: dict[int, dict] = field(default_factory=dict)  # id -> internal employee
    person_order: list[int] = field(default_factory=list)     # ids in creation order (index p)
    time_off_types: list[dict] = field(default_factory=list)
    absences: dict[int, dict] = field(default_factory=dict)
    document_categories: list[dict] = field(default_factory=list)
    reports: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    legal_entities: list[dict] = field(default_factory=list)
    org_units: list[dict] = field(default_factory=list)
    cost_centers: list[dict] = field(default_factory=list)
    workplaces: list[dict] = field(default_factory=list)
    compensation_types: list[dict] = field(default_factory=list)
    recruiting_categories: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)
    applications: list[dict] = field(default_factory=list)
    holiday_calendars: list[dict] = field(default_factory=list)
    work_schedules: list[dict] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    version: int = 0
    attendance: Attendance | None = None
    # "real": changes are stamped with the UTC wall clock; "base": synthetic clock from BASE_EPOCH
    clock_mode: str = "real"
    # listing order of employees (v1 employees, v2 persons); person_order stays the creation index that
    # virtual attendance ids are built from
    emp_order: list[int] = field(default_factory=list)
    # per (employee id, month start, item key) overrides of compensation items: dict = changed, None = deleted
    comp_overrides: dict = field(default_factory=dict)
    comp_extra: list[dict] = field(default_factory=list)  # back-dated created compensation items
    changes: list[dict] = field(default_factory=list)     # every applied change (GET /_sandbox/changes)
    options: dict = field(default_factory=dict)           # behaviour options (see mutate.OPTIONS)
    tenant: Any = None                                    # personio_sandbox.tenants.Tenant (None = full)
    lock: Any = field(default_factory=threading.RLock, repr=False)  # mutations vs request rendering

    def emp_by_index(self, p: int) -> dict:
        return self.employees[self.person_order[p]]

    def listed_employees(self) -> list[dict]:
        """Employees in list order (the order v1 employees and v2 persons serve them)."""
        order = self.emp_order or self.person_order
        return [self.employees[i] for i in order if i in self.employees]

    # ------------------------------------------------------------ helpers
    def now(self) -> int:
        """The sandbox's "today" (balances, the default compensation month, salary changes)."""
        return _clock.now(self)

    def tick(self) -> int:
        """The timestamp of a change happening now (see ``personio_sandbox.clock``)."""
        return _clock.tick(self)

    def record_counts(self) -> dict[str, int]:
        att = self.attendance_count()
        return {
            "employees": len(self.employees),
            "employments": sum(len(e["employments"]) for e in self.employees.values()),
            "time_off_types": len(self.time_off_types),
            "absences": len(self.absences),
            "time_offs": sum(1 for a in self.absences.values() if a["unit"] == "day"),
            "absence_periods_hourly": sum(1 for a in self.absences.values() if a["unit"] == "hour"),
            "document_categories": len(self.document_categories),
            "custom_reports": len(self.reports),
            "attendance_periods": att,
            "projects": len(self.projects), "legal_entities": len(self.legal_entities),
            "org_units": len(self.org_units), "cost_centers": len(self.cost_centers),
            "workplaces": len(self.workplaces), "compensation_types": len(self.compensation_types),
            "recruiting_categories": len(self.recruiting_categories), "jobs": len(self.jobs),
            "candidates": len(self.candidates), "applications": len(self.applications),
        }

    def attendance_count(self) -> int:
        a = self.attendance
        n = 0
        for p, eid in enumerate(self.person_order):
            if eid in self.employees:
                n += a.base_count(p) + len(a.extra.get(p, ()))
        n -= sum(1 for (p, j), r in a.overlay.items() if r is None and self.person_order[p] in self.employees)
        return n


# attributes whose change explains a generated employee's last_modified_at (see initial_attr_ts)
CHANGEABLE_ATTRS = ["position", "weekly_working_hours", "status", "department", "team", "cost_centers", "office",
                    "fix_salary", "preferred_name", "last_name", "dynamic_101", "dynamic_103", "dynamic_105",
                    "dynamic_107"]


def initial_attr_ts(seed: int, e: dict) -> dict[str, int]:
    """Per-attribute modification times of a generated employee: one to three attributes (chosen by hash, so
    the random stream is untouched) changed at ``updated_ts``; every other attribute dates from ``created_ts``."""
    if e["updated_ts"] <= e["created_ts"]:
        return {}
    h = _mix(seed, e["id"], 0xA77)
    keys = []
    for i in range(1 + h % 3):
        k = CHANGEABLE_ATTRS[(h >> (8 + 6 * i)) % len(CHANGEABLE_ATTRS)]
        if k not in keys:
            keys.append(k)
    return {k: e["updated_ts"] for k in keys}


def attribute_updated_ts(e: dict, key: str) -> int:
    """When the v1 attribute ``key`` of employee ``e`` last changed (drives ``updated_since`` + ``attributes[]``)."""
    if key == "last_modified_at":
        return e["updated_ts"]
    return e.get("attr_ts", {}).get(key, e["created_ts"])


def month_start(ts: int) -> int:
    d = _dt.datetime.fromtimestamp(ts, UTC)
    return int(_dt.datetime(d.year, d.month, 1, tzinfo=UTC).timestamp())


def salary_at(e: dict, ts: int) -> tuple[int, int | None]:
    """(monthly fix salary in force at ``ts``, time that salary was entered or None if since generation)."""
    hist = e.get("salary_history")
    if not hist:
        return e["fix_salary"], None
    amount, changed = hist[0][1], hist[0][2]
    for frm, amt, when in hist:
        if frm <= ts:
            amount, changed = amt, when
    return amount, changed


def _pick(rng: random.Random, seq):
    return seq[rng.randrange(len(seq))]


def make_employee(c: Company, rng: random.Random, eid: int, hire_ts: int, created_ts: int) -> dict:
    first, last = _pick(rng, FIRST), _pick(rng, LAST)
    ascii_last = (last.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ı", "i")
                  .replace("'", "").lower())
    ascii_first = first.replace("ş", "s").replace("é", "e").replace("ë", "e").replace("Ş", "S").lower()
    gender = _pick(rng, ["male", "female", "female", "male", "diverse"])
    dept = _pick(rng, [u for u in c.org_units if u["type"] == "department"])
    teams = [u for u in c.org_units if u["type"] == "team" and u["parent_id"] == dept["id"]]
    team = _pick(rng, teams) if teams else None
    hours = _pick(rng, [40, 40, 40, 32, 30, 20])
    term_ts = 0
    status = "active"
    if rng.random() < 0.08 and hire_ts < BASE_EPOCH - 200 * DAY:
        term_ts = hire_ts + rng.randrange(100, max(101, (BASE_EPOCH - hire_ts) // DAY - 30)) * DAY
        status = "inactive"
    elif hire_ts > BASE_EPOCH - 30 * DAY:
        status = "onboarding"
    elif rng.random() < 0.02:
        status = "leave"
    cc = _pick(rng, c.cost_centers)
    ccs = [(cc["id"], 100)]
    if rng.random() < 0.15 and len(c.cost_centers) > 1:
        cc2 = _pick(rng, c.cost_centers)
        if cc2["id"] != cc["id"]:
            ccs = [(cc["id"], 60), (cc2["id"], 40)]
    dyn = {
        "dynamic_101": "DE%02d%018d" % (rng.randrange(100), rng.randrange(10 ** 18)),
        "dynamic_102": "%04d-%02d-%02d" % (rng.randrange(1960, 2004), rng.randrange(1, 13), rng.randrange(1, 29)),
        "dynamic_103": rng.randrange(0, 4),
        "dynamic_104": round(rng.random() * 20, 2),
        "dynamic_105": _pick(rng, DYNAMIC[4][4]),
        "dynamic_106": ",".join(sorted(rng.sample(DYNAMIC[5][4], rng.randrange(1, 4)))),
        "dynamic_107": "Line one\nLine two" if rng.random() < 0.3 else "",
        "dynamic_108": "https://www.linkedin.com/in/%s-%s-%d" % (ascii_first, ascii_last, eid),
        "dynamic_109": _pick(rng, DYNAMIC[8][4]) if rng.random() < 0.8 else None,
    }
    emp = {
        "id": eid, "first_name": first, "last_name": last,
        "preferred_name": first if rng.random() < 0.7 else "%s %s" % (first, last),
        "email": "%s.%s.%d@sandbox-company.example" % (ascii_first, ascii_last, eid),
        "gender": gender, "status": status, "position": _pick(rng, POSITIONS),
        "supervisor_id": None, "employment_type": "internal" if rng.random() < 0.9 else "external",
        "weekly_working_hours": hours, "hire_ts": hire_ts, "term_ts": term_ts,
        "contract_end_date": None if rng.random() < 0.8 else day_str(hire_ts + 730 * DAY),
        "termination_type": "Resignation" if term_ts else None,
        "termination_reason": _pick(rng, ["New job", "Relocation", "Career change"]) if term_ts else None,
        "probation_end_ts": hire_ts + 182 * DAY,
        "created_ts": created_ts, "updated_ts": created_ts + rng.randrange(0, max(1, BASE_EPOCH - created_ts - DAY)),
        "legal_entity_id": _pick(rng, c.legal_entities)["id"], "workplace_id": _pick(rng, c.workplaces)["id"],
        "department_id": dept["id"], "team_id": team["id"] if team else None, "cost_centers": ccs,
        "holiday_calendar": _pick(rng, c.holiday_calendars), "work_schedule": c.work_schedules[0 if hours == 40 else 1],
        "entitlement": _pick(rng, [25, 26, 28, 30]), "fix_salary": rng.randrange(3000, 9500, 50),
        "hourly_salary": 0, "dynamic": dyn,
        "employments": [], "rendered_v1": None,
    }
    emp["updated_ts"] = max(emp["updated_ts"], hire_ts if hire_ts < BASE_EPOCH else created_ts)
    emp["updated_ts"] = min(emp["updated_ts"], BASE_EPOCH - 3600)
    emp["person_ts"] = emp["updated_ts"]  # v2 person updated_at: moves on person changes only
    emp["employments"].append(make_employment(rng, emp))
    return emp


def make_employment(rng: random.Random, emp: dict) -> dict:
    return {
        "id": det_uuid(rng), "created_ts": emp["created_ts"], "updated_ts": emp["updated_ts"],
        "job_id": det_uuid(rng),
    }


def absence_created_ts(seed: int, eid: int, start_day: int, lead_days: int, second: int) -> int:
    """An absence is requested ``lead_days`` before it starts; one planned further ahead than that from
    today was requested on a day of the three weeks before today (not all on the last day: a company's
    planned absences do not share one creation day)."""
    requested = start_day - lead_days * DAY
    if requested <= BASE_EPOCH - DAY:
        return requested + second
    return BASE_EPOCH - DAY - (_mix(seed, eid, start_day) % 21) * DAY + second


def absence_updated_ts(created_ts: int, delta: int) -> int:
    """Last edited ``delta`` after creation, folded back before today rather than clamped to one instant
    (a cluster of equal ``updated_at`` values is not what a real company has)."""
    if created_ts + delta <= BASE_EPOCH - 60:
        return created_ts + delta
    return created_ts + delta % max(1, BASE_EPOCH - 60 - created_ts)


def generate_company(seed: int = 1, employees: int = 100) -> Company:
    rng = random.Random(seed)
    c = Company(seed=seed, rng=random.Random(seed * 7919 + 17))
    n = max(1, int(employees))
    # legal entities, workplaces, org units, cost centers
    n_le = 1 if n < 50 else (2 if n < 500 else 4)
    for i in range(n_le):
        city, country = CITIES[i % len(CITIES)]
        c.legal_entities.append({"id": str(170 + i), "name": "Sandbox %s %s" % (city, "GmbH" if country == "DE" else "Ltd"),
                                 "country": country, "created_ts": BASE_EPOCH - (3000 - i * 100) * DAY})
    n_wp = min(len(CITIES), max(1, n // 80 + 1))
    for i in range(n_wp):
        city, country = CITIES[i]
        c.workplaces.append({"id": str(60300 + i), "name": city, "country": country})
    n_dept = min(len(DEPARTMENTS) * 4, max(2, n // 25))
    oid = 400
    for i in range(n_dept):
        name = DEPARTMENTS[i % len(DEPARTMENTS)] + ("" if i < len(DEPARTMENTS) else " %d" % (i // len(DEPARTMENTS) + 1))
        c.org_units.append({"id": str(oid), "type": "department", "name": name, "parent_id": None,
                            "abbreviation": name[:3].upper()})
        oid += 1
    depts = list(c.org_units)
    n_team = max(len(depts), n // 8)  # every department has at least one team
    for i in range(n_team):
        d = depts[i % len(depts)]
        c.org_units.append({"id": str(4500 + i), "type": "team", "name": "%s Team %d" % (d["name"], i + 1),
                            "parent_id": d["id"], "abbreviation": "T%d" % (i + 1)})
    n_cc = max(1, n // 50)
    for i in range(n_cc):
        c.cost_centers.append({"id": str(1000 + i), "name": "Cost center %d" % (i + 1)})
    c.holiday_calendars = [
        {"id": 2, "name": "Deutschland (Bayern) Feiertage", "country": "DE", "state": "Bayern"},
        {"id": 3, "name": "Deutschland (Berlin) Feiertage", "country": "DE", "state": "Berlin"},
        {"id": 9, "name": "España Festivos", "country": "ES", "state": None},
    ]
    days = {d: "08:00" for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    c.work_schedules = [
        {"id": 97188, "name": "Full-time, 40 hours without time tracking, (mon,tue,wed,thu,fri)", "valid_from": None,
         **days, "saturday": "00:00", "sunday": "00:00"},
        {"id": 97189, "name": "Part-time (mon,tue,wed,thu,fri)", "valid_from": None,
         **{d: "06:00" for d in days}, "saturday": "00:00", "sunday": "00:00"},
    ]
    # time-off types
    for i, (name, cat, unit, v2cat) in enumerate(TOT):
        c.time_off_types.append({"id": 113437 + i, "uuid": det_uuid(rng), "name": name, "category": cat,
                                 "unit": unit, "v2_category": v2cat, "approval_required": cat != "sick_leave"})
    # projects
    n_proj = max(2, n // 20)
    for i in range(n_proj):
        cts = BASE_EPOCH - rng.randrange(30, 900) * DAY
        c.projects.append({"id": det_uuid(rng), "name": "Project %s %d" % (_pick(rng, ["Apollo", "Borealis", "Comet", "Delta", "Echo", "Falcon"]), i + 1),
                           "project_code": "P-%04d" % (i + 1), "status": "ACTIVE" if rng.random() < 0.8 else "ARCHIVED",
                           "parent_id": None, "created_ts": cts, "updated_ts": cts + rng.randrange(0, 20) * DAY})
    for p in c.projects[1::5]:
        p["parent_id"] = c.projects[0]["id"]
    # employees
    eid0 = 10001
    for i in range(n):
        hire = BASE_EPOCH - rng.randrange(10, 3000) * DAY
        created = min(hire - rng.randrange(5, 60) * DAY + rng.randrange(0, DAY), BASE_EPOCH - 2 * DAY)
        emp = make_employee(c, rng, eid0 + i, hire, created)
        emp["attr_ts"] = initial_attr_ts(seed, emp)
        c.employees[emp["id"]] = emp
        c.person_order.append(emp["id"])
    ids = c.person_order
    for i, eid in enumerate(ids):
        if i > 0:
            c.employees[eid]["supervisor_id"] = ids[rng.randrange(0, max(1, min(i, 1 + n // 10)))]
    # absences
    aid = 500000
    day_types = [t for t in c.time_off_types if t["unit"] == "day"]
    hour_types = [t for t in c.time_off_types if t["unit"] == "hour"]
    for eid in ids:
        emp = c.employees[eid]
        k = rng.randrange(3, 9)
        for _ in range(k):
            start_day = BASE_EPOCH - rng.randrange(-60, 360) * DAY
            if start_day < emp["hire_ts"]:
                continue
            hourly = rng.random() < 0.2
            t = _pick(rng, hour_types if hourly else day_types)
            length = 1 if hourly else rng.randrange(1, 6)
            cts = absence_created_ts(seed, eid, start_day, rng.randrange(1, 30), rng.randrange(0, DAY))
            half_start = (not hourly) and rng.random() < 0.1
            half_end = (not hourly) and length > 1 and rng.random() < 0.1
            start_day, end_day = workday_span(start_day, length)
            status = "approved" if start_day < BASE_EPOCH else _pick(rng, ["approved", "pending", "approved"])
            aid += 1
            c.absences[aid] = {
                "id": aid, "uuid": det_uuid(rng), "employee_id": eid, "type_id": t["id"], "unit": t["unit"],
                "start_day": start_day, "end_day": end_day,
                "half_day_start": half_start, "half_day_end": half_end,
                "start_min": 9 * 60 + rng.randrange(0, 4) * 60 if hourly else 0,
                "minutes": rng.randrange(1, 5) * 60 if hourly else 0,
                "status": status, "comment": _pick(rng, ["", "", "Family trip", "Doctor", "Conference"]),
                "created_ts": cts, "updated_ts": absence_updated_ts(cts, rng.randrange(0, 5 * DAY)),
                "created_by": "API" if rng.random() < 0.3 else "Admin User",
                "origin": _pick(rng, ["web", "web", "api", "mobile", "slack", "msteams"]),
            }
    # document categories
    for i, name in enumerate(DOC_CATEGORIES):
        c.document_categories.append({"id": 1 + i, "name": name})
    # custom reports
    rep_types = [("point_in_time", "Headcount today"), ("timeframe", "Absences last quarter"),
                 ("historical_data", "Department changes in the past year")]
    for t, name in rep_types:
        c.reports.append({"id": det_uuid(rng), "name": name, "type": t, "description": "Sandbox report: %s" % name,
                          "created_ts": BASE_EPOCH - 200 * DAY, "updated_ts": BASE_EPOCH - 10 * DAY,
                          "refreshed_ts": BASE_EPOCH - 3600})
    # Two more reports from their own random stream (the rest of the company stays as it was): a grouped one
    # (the Report API v2 answers 400 for it) and one an administrator has not enabled for API access (§10.1:
    # it does not appear in /v2/reports); v1 lists and serves both.
    rrng = random.Random(seed * 31 + 11)
    for t, name, grouped, api in (("point_in_time", "Headcount by department", True, True),
                                  ("timeframe", "Salary overview", False, False)):
        c.reports.append({"id": det_uuid(rrng), "name": name, "type": t, "description": "Sandbox report: %s" % name,
                          "created_ts": BASE_EPOCH - 120 * DAY, "updated_ts": BASE_EPOCH - (3 if grouped else 30) * DAY,
                          "refreshed_ts": BASE_EPOCH - 3600, "grouped": grouped, "api_access": api})
    # compensation types
    for i, (name, cat) in enumerate([("Base salary", "FIXED"), ("Hourly wage", "HOURLY"), ("Annual bonus", "ONE_TIME"),
                                     ("Commission", "RECURRING"), ("Car allowance", "RECURRING")]):
        c.compensation_types.append({"id": det_uuid(rng), "name": name, "category": cat})
    # recruiting
    n_cat = 3
    for i, name in enumerate(["Engineering", "Sales", "General"][:n_cat]):
        c.recruiting_categories.append({"id": str(900 + i), "name": name,
                                        "stages": [{"id": str(9000 + i * 10 + k), "kind": kind, "name": nm}
                                                   for k, (kind, nm) in enumerate(STAGES)]})
    n_jobs = max(2, n // 50)
    for i in range(n_jobs):
        cts = BASE_EPOCH - rng.randrange(20, 700) * DAY
        cat = _pick(rng, c.recruiting_categories)
        c.jobs.append({"id": str(700000 + i), "name": _pick(rng, POSITIONS), "department_id": _pick(rng, depts)["id"],
                       "category_id": cat["id"], "created_ts": cts, "updated_ts": cts + rng.randrange(0, 20 * DAY),
                       "hiring_team": [str(_pick(rng, ids))]})
    n_cand = max(3, n // 2)
    appid = 3000000
    for i in range(n_cand):
        first, last = _pick(rng, FIRST), _pick(rng, LAST)
        cts = BASE_EPOCH - rng.randrange(1, 700) * DAY - rng.randrange(DAY)
        cand = {"id": str(2000000 + i), "first_name": first, "last_name": last,
                "email": "candidate%d@applicants.example" % (i + 1), "gender": _pick(rng, ["MALE", "FEMALE", "DIVERSE"]),
                "phone": "+49 30 %07d" % rng.randrange(10 ** 7), "location": _pick(rng, CITIES)[0],
                "created_ts": cts, "updated_ts": cts, "application_ids": []}
        for _ in range(1 if rng.random() < 0.85 else 2):
            job = _pick(rng, c.jobs)
            ats = cts + rng.randrange(0, 3 * DAY)
            nstage = rng.randrange(1, 5)
            cat = next(x for x in c.recruiting_categories if x["id"] == job["category_id"])
            trans = []
            t = ats
            for k in range(nstage):
                stage = cat["stages"][k if k < 4 or rng.random() < 0.5 else 5]
                trans.append({"ts": t, "stage": stage})
                t += rng.randrange(DAY, 10 * DAY)
            if rng.random() < 0.3 and nstage < 4:
                trans.append({"ts": t, "stage": cat["stages"][5]})
                t += 3600
            upd = min(max(x["ts"] for x in trans), BASE_EPOCH - 60)
            for x in trans:
                x["ts"] = min(x["ts"], upd)
            appid += 1
            c.applications.append({"id": str(appid), "candidate_id": cand["id"], "job_id": job["id"],
                                   "application_ts": ats, "created_ts": ats, "updated_ts": upd,
                                   "transitions": trans, "channel": _pick(rng, ["Career page", "LinkedIn", "Referral"])})
            cand["application_ids"].append(str(appid))
            cand["updated_ts"] = max(cand["updated_ts"], min(upd, BASE_EPOCH - 60))
        c.candidates.append(cand)
    c.attendance = Attendance(c)
    c.emp_order = list(c.person_order)
    return c
