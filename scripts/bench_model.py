"""What a sync *must* cost against the sandbox: ``min_requests`` and ``floor_s`` for `make bench`.

min_requests -- the fewest requests that return every record a sync returns: per list endpoint
``ceil(records / largest page the sandbox allows)`` (one request for an empty list), per substream
one such count per parent record, plus one token per API version used. v1 offset-paged lists are
the exception: the connector reads them with pages that overlap by one record, its proof that two
pages join while Personio's list may change under the read (docs/personio.md, "How v1 paging
survives changes"), so their minimum is the fewest *overlapping* pages (:func:`v1_record_offset_pages`,
:func:`v1_page_number_pages`). v2 lists with an ``updated_at`` filter are read in time windows of one page
each (docs/personio.md, "How v2 lists survive changes": what Personio's cursors mean then never matters),
which re-reads records on purpose: the first request asks for the whole list (one page holds all of a
short list) and, for a longer one, its page is read again by the windows, which are sized for 3/4 of a
page so that one rarely turns out oversized and has to be split (:func:`v2_window_pages`); attendances
are sorted by ``updated_at``, so an oversized window goes on from its page's last record and costs its
pages. Record counts are the
sandbox's own ground truth, computed in-process from the same seed and company size
(``personio_sandbox.data.generate_company`` + ``personio_sandbox.api.dataset``), with the filters
the connector sends for the bench's ``start_date``.

floor_s -- the time those requests need at the sandbox's documented rate limits: the slowest
bucket decides (v1: 2,000/min per client overall, employees 300/min with 15/s bursts; v2: a
token bucket per endpoint, rate = burst = the documented per-second figure).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from personio_sandbox import api
from personio_sandbox import data as D
from personio_sandbox.server import DOCUMENTED

# Largest page each list endpoint accepts in the sandbox. Endpoints whose limit has no maximum
# (time-offs, absence-periods, time-off-types) count at 200, Personio's documented default: an
# unbounded page would make memory grow with the company.
PAGE = {
    "/v1/company/employees": 100,
    "/v1/company/employees?updated_since": 200,
    "/v1/company/time-offs": 200,
    "/v1/company/absence-periods": 200,
    "/v1/company/time-off-types": 200,
    "/v1/company/custom-reports/reports/{report_id}": 200,
    "/v2/persons": 50,
    "/v2/persons/{person_id}/employments": 50,
    "/v2/absence-periods/{id}/breakdowns": 28,
    "/v2/recruiting/candidates": 200,
    "/v2/recruiting/applications": 200,
    "/v2/recruiting/applications/{id}/stage-transitions": 200,
    "/v2/recruiting/jobs": 200,
    "/v2/recruiting/categories": 200,
}
V2_DEFAULT_PAGE = 100


def pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


# v1 paging: deliberate overlap re-reads. Each page after the first must hold a record already read,
# or a delete before the read position would go unnoticed (a skipped record) and an insert would
# repeat records; so one record per page is read twice on purpose.
def v1_record_offset_pages(n: int, size: int) -> int:
    """Record offsets (employees, time-off-types): the first page holds ``size`` new records, every
    further one starts at the previous page's last record, so ``size - 1`` new ones."""
    return 1 if n <= size else 1 + math.ceil((n - size) / (size - 1))


def v1_page_number_pages(n: int, size: int) -> int:
    """Page numbers (time-offs ``offset``, custom reports ``page``): a request covers positions
    ``[(page - 1) * limit, page * limit)`` for a ``limit`` of at most ``size``, and must start at or
    before the last position already read. Fewest such requests over every ``limit`` from 1 to
    ``size``: how far one request can reach never decreases with how far the read got, so reaching
    as far as possible at every step is optimal."""
    covered, requests = min(n, size), 1
    while covered < n:
        covered = max(((covered - 1) // limit + 1) * limit for limit in range(1, size + 1))
        requests += 1
    return requests


# v2 lists with an updated_at filter (persons, absence periods, recruiting applications) are read in
# updated_at windows of one page each (see the module docstring): the whole-list request, then windows
# sized for 3/4 of a page.
WINDOW_FILL = 0.75


def v2_window_pages(n: int, size: int) -> int:
    """The whole list in one request, or that request plus windows of 3/4 of a page each."""
    return 1 if n <= size else 1 + math.ceil(n / (size * WINDOW_FILL))


@dataclass
class Model:
    company: D.Company
    start_date: str  # YYYY-MM-DD, the connector's start_date

    def count(self, path: str) -> int:
        return len(api.dataset(self.company, path))

    def ids(self, path: str, key: str = "id") -> List:
        return [r[key] if key in r else r["attributes"][key] for r in api.dataset(self.company, path)]


# Requests one full read of an endpoint needs, by sandbox path template. Filters mirror the
# connector's requests for a first sync from start_date.
def _list(path: str, template: Optional[str] = None, query: str = "", paging: Callable[[int, int], int] = pages) -> Callable[[Model], int]:
    template = template or path
    size = PAGE.get(template, V2_DEFAULT_PAGE)
    return lambda m: paging(m.count(path + (query.format(start=m.start_date) if query else "")), size)


def _employments(m: Model) -> int:
    return sum(pages(len(e["employments"]), 50) for e in m.company.employees.values())


def _per_parent(
    parent: str, child: str, size: int, key: str = "id", paging: Callable[[int, int], int] = pages
) -> Callable[[Model], int]:
    """A substream: one full read of ``child`` (``{}`` = the parent's id) per parent record."""
    return lambda m: sum(paging(m.count(child.format(pid)), size) for pid in m.ids(parent.format(start=m.start_date), key))


# breakdowns are read for the absence periods the absence_periods stream reads (updated since start_date)
_breakdowns = _per_parent(
    "/v2/absence-periods?updated_at.gte={start}T00:00:00", "/v2/absence-periods/{}/breakdowns", 28
)
_stage_transitions = _per_parent("/v2/recruiting/applications", "/v2/recruiting/applications/{}/stage-transitions", 200)
_reports = _per_parent(
    "/v1/company/custom-reports/reports", "/v1/company/custom-reports/reports/{}", 200, paging=v1_page_number_pages
)


ENDPOINT_MIN: Dict[str, Callable[[Model], int]] = {
    "/v1/company/employees": _list("/v1/company/employees", paging=v1_record_offset_pages),
    "/v1/company/employees/{employee_id}/absences/balance": lambda m: len(m.company.employees),
    "/v1/company/employees/attributes": lambda m: 1,
    # none at read: each custom_report_<name> stream's schema (its column list) comes from the catalog
    "/v1/company/custom-reports/columns": lambda m: 0,
    "/v1/company/time-off-types": _list("/v1/company/time-off-types", paging=v1_record_offset_pages),
    "/v1/company/time-offs": _list("/v1/company/time-offs", query="?updated_from={start}", paging=v1_page_number_pages),
    "/v1/company/absence-periods": _list("/v1/company/absence-periods", query="?updated_from={start}"),
    "/v1/company/document-categories": lambda m: 1,
    "/v1/company/custom-reports/reports": lambda m: 1,
    "/v1/company/custom-reports/reports/{report_id}": _reports,
    # sorted by updated_at: a window of more than a page goes on from its page's last record (its pages)
    "/v2/attendance-periods": _list("/v2/attendance-periods", query="?updated_at.gte={start}T00:00:00"),
    "/v2/absence-periods": _list("/v2/absence-periods", query="?updated_at.gte={start}T00:00:00", paging=v2_window_pages),
    "/v2/absence-periods/{id}/breakdowns": _breakdowns,
    "/v2/persons": _list("/v2/persons", paging=v2_window_pages),
    "/v2/persons/{person_id}/employments": _employments,
    "/v2/projects": _list("/v2/projects"),
    "/v2/absence-types": _list("/v2/absence-types"),
    "/v2/legal-entities": _list("/v2/legal-entities"),
    "/v2/cost-centers": _list("/v2/cost-centers"),
    "/v2/workplaces": _list("/v2/workplaces"),
    "/v2/compensations/types": _list("/v2/compensations/types"),
    "/v2/recruiting/candidates": _list("/v2/recruiting/candidates"),
    "/v2/recruiting/applications": _list("/v2/recruiting/applications", paging=v2_window_pages),
    "/v2/recruiting/applications/{id}/stage-transitions": _stage_transitions,
    "/v2/recruiting/jobs": _list("/v2/recruiting/jobs"),
    "/v2/recruiting/categories": _list("/v2/recruiting/categories"),
}


def min_requests(model: Model, requested: Mapping[str, int]) -> Tuple[Dict[str, int], List[str]]:
    """Minimal requests per endpoint the sync touched (``requested``: the sandbox's ``"GET /tmpl": n``).

    Endpoints this model does not know (a stream added later) count at what was requested and are
    returned in the second list, so the bench can say so instead of guessing.
    """
    out: Dict[str, int] = {}
    unmodelled: List[str] = []
    for key, n in requested.items():
        method, _, template = key.partition(" ")
        if template in ("/v1/auth", "/v2/auth/token"):
            out[key] = 1
        elif template in ENDPOINT_MIN:
            try:
                out[key] = ENDPOINT_MIN[template](model)
            except Exception as error:  # a model bug must not lose a long bench run
                out[key] = n
                unmodelled.append(f"{key} ({type(error).__name__}: {error})")
        else:
            out[key] = n
            unmodelled.append(key)
    return out, unmodelled


# ------------------------------------------------------------------ floor
def window_time(n: int, limit: int, span: float) -> float:
    """Fixed window of ``limit`` per ``span`` seconds starting with the first request."""
    return math.floor((n - 1) / limit) * span if n > 0 else 0.0


def bucket_time(n: int, rate: float, burst: float) -> float:
    """Token bucket starting full."""
    return max(0.0, (n - burst) / rate)


def floor_seconds(per_endpoint: Mapping[str, int], limits: Mapping = DOCUMENTED) -> Tuple[float, Dict[str, float]]:
    """Time the given requests need at the sandbox's rate limits: the slowest bucket."""
    buckets: Dict[str, float] = {}
    v1_total = 0
    for key, n in per_endpoint.items():
        _, _, template = key.partition(" ")
        if template in ("/v1/auth", "/v2/auth/token"):
            continue
        if template.startswith("/v1/"):
            v1_total += n
            if template == "/v1/company/employees":
                burst = limits["v1_employees_burst_per_s"]
                buckets["v1 employees"] = max(
                    window_time(n, limits["v1_employees_per_min"], 60.0), bucket_time(n, burst, burst)
                )
        elif template.startswith("/v2/"):
            rate = limits["v2"].get(template, limits["v2_default_per_s"])
            buckets[f"v2 {template}"] = bucket_time(n, rate, rate)
    buckets["v1 overall"] = window_time(v1_total, limits["v1_overall_per_min"], 60.0)
    return max(buckets.values() or [0.0]), buckets


# ------------------------------------------------------------------ incremental sync without changes
# What each full-refresh stream must read on every sync: the endpoints of one full read of it.
# custom_report_<name> streams (one per report) are counted together: every report's pages, plus the
# report list the per-report streams are resolved from (their schemas come from the catalog).
FULL_REFRESH_STREAM_ENDPOINTS: Dict[str, Tuple[str, ...]] = {
    "absence_types": ("/v1/company/time-off-types",),
    "document_categories": ("/v1/company/document-categories",),
    "custom_reports_list": ("/v1/company/custom-reports/reports",),
    "custom_reports": ("/v1/company/custom-reports/reports", "/v1/company/custom-reports/reports/{report_id}"),
    "custom_report_*": ("/v1/company/custom-reports/reports", "/v1/company/custom-reports/reports/{report_id}"),
    "employees_absences_balance": ("/v1/company/employees", "/v1/company/employees/{employee_id}/absences/balance"),
    "employee_attributes": ("/v1/company/employees/attributes",),
    "projects": ("/v2/projects",),
    "legal_entities": ("/v2/legal-entities",),
    "org_units": ("/v2/org-units",),
    "cost_centers": ("/v2/cost-centers",),
    "workplaces": ("/v2/workplaces",),
    "compensation_types": ("/v2/compensations/types",),
    "recruiting_jobs": ("/v2/recruiting/jobs",),
    "recruiting_categories": ("/v2/recruiting/categories",),
}


def _state_value(states: Mapping[str, Any], stream: str, key: str) -> Optional[str]:
    state = (states.get(stream) or {}).get("stream", {}).get("stream_state") or {}
    return state.get(key) or (state.get("state") or {}).get(key)


def _months_before(day: str, months: int) -> str:
    """The first day of the calendar month ``months`` before the month of ``day`` (YYYY-MM-DD)."""
    year, month = int(day[:4]), int(day[5:7]) - months
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}-01"


def _calendar_months(first: str, today: str) -> List[Tuple[str, str]]:
    """(first day, last day or today) of each calendar month from ``first``'s month to today's."""
    out: List[Tuple[str, str]] = []
    start = _dt.date.fromisoformat(first).replace(day=1)
    end = _dt.date.fromisoformat(today)
    while start <= end:
        following = (start.replace(day=28) + _dt.timedelta(days=4)).replace(day=1)
        out.append((start.isoformat(), min(following - _dt.timedelta(days=1), end).isoformat()))
        start = following
    return out


def incremental_min_requests(
    model: Model,
    streams: Mapping[str, str],
    full_minimal: Mapping[str, int],
    states: Mapping[str, Any],
    today: str,
    lookback_days: int = 1,
    compensations_lookback_months: int = 3,
    employments_every_person: bool = True,
) -> Dict[str, int]:
    """The fewest requests of an incremental sync right after a full one, nothing changed in between.

    ``streams``: stream name -> sync mode of the bench catalog; ``full_minimal``: ``min_requests`` of the
    full sync ("GET /tmpl" -> n), whose per-endpoint counts a full-refresh stream needs again. One token
    per API version; one request per incremental stream, except where Personio's filter cannot leave the
    unchanged records out: time-offs filter by day (``updated_from``, the state's day minus the
    lookback is re-read) -- and where the connector re-reads on purpose: compensations re-read the
    calendar months from ``compensations_lookback_months`` before the state's month to today (one
    window per month, Personio's maximum), and employments ask every person (the persons list, then
    one request per person) unless ``employments_every_person`` is off.
    """
    budget: Dict[str, int] = {"tokens": 2}
    for name, mode in sorted(streams.items()):
        if mode == "incremental":
            n = 1
            if name == "absences":
                cursor = _state_value(states, "absences", "updated_at")
                at = _dt.datetime.fromisoformat(cursor).astimezone(_dt.timezone.utc) if cursor else None
                # the connector asks for the UTC day of (state - lookback); Personio's v1 times carry +01:00
                since = (at - _dt.timedelta(days=lookback_days)).date().isoformat() if at else model.start_date
                n = v1_page_number_pages(
                    model.count(f"/v1/company/time-offs?updated_from={since}"), PAGE["/v1/company/time-offs"]
                )
            elif name == "compensations":
                state = (_state_value(states, "compensations", "effective_date") or model.start_date)[:10]
                n = sum(
                    pages(model.count(f"/v2/compensations?start_date={first}&end_date={last}"), V2_DEFAULT_PAGE)
                    for first, last in _calendar_months(_months_before(state, compensations_lookback_months), today)
                )
            elif name == "employments" and employments_every_person:
                persons = model.count("/v2/persons")
                # the persons list, then each person's employments changed since the state (none: one page)
                n = v2_window_pages(persons, PAGE["/v2/persons"]) + persons
            budget[f"incremental {name}"] = n
        else:
            key = "custom_report_*" if name.startswith("custom_report_") else name
            if key not in FULL_REFRESH_STREAM_ENDPOINTS:
                budget[f"{name} (unmodelled: not counted)"] = 0
                continue
            if key in budget:
                continue
            budget[key] = 0
            for template in FULL_REFRESH_STREAM_ENDPOINTS[key]:
                budget[key] += full_minimal.get(f"GET {template}", 0)
    return budget
