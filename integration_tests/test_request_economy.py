"""Request economy against a sandbox of its own: a full sync of every stream makes exactly
the fewest requests that return its records -- per endpoint, ``ceil(records / largest page)`` from the
sandbox's own dataset sizes (a list whose size is a multiple of the page size included: no empty page
after it), one token per API version -- and an incremental sync right after it, with nothing changed,
costs one request per incremental stream plus the minimal pages of the full-refresh streams.

Documented exceptions, asserted as such: the v2 lists read in updated_at windows (persons, attendances,
absence periods, recruiting applications; docs/personio.md "How v2 lists survive changes") cost one request
when they fit in a page and otherwise a range from their pages, see WINDOWED; five lists are read twice in a full sync because a second
stream needs them as its parent (employees -> balances, custom reports -> report rows, persons ->
employments, absence periods -> breakdowns, applications -> stage transitions); balances read every
employee on every sync (Personio has no changed-since filter for balances; they are a
full-refresh stream). Deliberate re-reads of an incremental sync: employments ask every person on every
sync (Personio does not promise that an employment change moves its person's updated_at), and
compensations re-read the months from compensations_lookback_months (default 3) before the state.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import Counter
from typing import Dict

import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover
from personio_sandbox.testing import Sandbox

from expected_requests import page_number_pages, pages, record_offset_pages
from sandbox_helpers import final_states, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

# 100 employees: the employees list is exactly one full page of 100 (the empty-page case)
EMPLOYEES = 100
START_DATE = "2026-10-18"
AUTH = {"POST /v1/auth": 1, "POST /v2/auth/token": 1}


@pytest.fixture(scope="module")
def sb():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-economy-{os.getpid()}.log")
    with Sandbox(employees=EMPLOYEES, seed=1, rate_limits="off", log_path=log_path) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def cfg(sb):
    # fast: no client-side pacing against an unlimited sandbox; the per-report streams are covered elsewhere
    return sb.config(start_date=START_DATE, pace_requests=False, custom_report_streams=False, retry_backoff_seconds=0.2)


@pytest.fixture(scope="module")
def streams(cfg):
    catalog = discover(SourcePersonio(config=cfg), cfg).catalog.catalog
    return {s.name: SyncMode.incremental in s.supported_sync_modes for s in catalog.streams}


def requests_made(sb) -> Dict[str, int]:
    return {k: v for k, v in sb.stats()["requests"].items() if not k.startswith("GET /_sandbox")}


def sync(sb, cfg, streams, state=None):
    clear_token_cache()
    sb.reset_stats()
    output = run_read(cfg, list(streams), SyncMode.incremental, state=state)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return output, requests_made(sb)


@pytest.fixture(scope="module")
def full(sb, cfg, streams):
    return sync(sb, cfg, streams)


def add_month(day: dt.date) -> dt.date:
    year, month = divmod(day.month, 12)
    first_of_next = dt.date(day.year + year, month + 1, 1)
    last = (first_of_next.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first_of_next.replace(day=min(day.day, last.day))


def months(start: dt.date, end: dt.date):
    """The fewest windows of at most one month (Personio's limit) from start through end."""
    while start <= end:
        nxt = add_month(start)
        yield start, min(nxt - dt.timedelta(days=1), end)
        start = nxt


def months_back(day: dt.date, n: int) -> dt.date:
    """The same day n calendar months earlier (the last day of a shorter month)."""
    year, month = day.year, day.month - n
    while month < 1:
        year, month = year - 1, month + 12
    last = ((dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def compensation_requests(sb, since: dt.date) -> int:
    windows = months(since, dt.datetime.now(dt.timezone.utc).date())
    return sum(pages(len(sb.dataset(f"/v2/compensations?start_date={a}&end_date={b}")), 100) for a, b in windows)


def minimal_full_sync(sb) -> Counter:
    """The fewest requests of a full sync of every stream, per endpoint: record counts from the sandbox, page
    sizes Personio's documented maxima (employees 100, persons and employments 50, breakdowns 28, absence and
    attendance periods 100, recruiting lists 200, custom report rows 200 employees, time-offs and time-off
    types at Personio's default of 200) or, where Personio states none (projects, legal entities, org units,
    cost centers, workplaces, compensations, reports v2), the sandbox's."""
    d = lambda path: len(sb.dataset(path))  # noqa: E731
    absence_periods = sb.dataset(f"/v2/absence-periods?updated_at.gte={START_DATE}T00:00:00")
    persons = sb.dataset("/v2/persons")
    applications = sb.dataset("/v2/recruiting/applications")
    reports = sb.dataset("/v1/company/custom-reports/reports")
    minimal = Counter(AUTH)
    minimal.update(
        {
            "GET /v1/company/employees": record_offset_pages(d("/v1/company/employees"), 100),
            "GET /v1/company/employees/{employee_id}/absences/balance": d("/v1/company/employees"),
            "GET /v1/company/time-off-types": record_offset_pages(d("/v1/company/time-off-types"), 200),
            "GET /v1/company/time-offs": page_number_pages(d(f"/v1/company/time-offs?updated_from={START_DATE}"), 200),
            "GET /v1/company/document-categories": 1,
            "GET /v1/company/custom-reports/reports": 1,
            "GET /v1/company/custom-reports/reports/{report_id}": len(reports) * page_number_pages(EMPLOYEES, 200),
            # reports_v2_list: pages of 50
            "GET /v2/reports": pages(len(sb.truth("reports_v2")), 50),
            "GET /v2/attendance-periods": pages(d(f"/v2/attendance-periods?updated_at.gte={START_DATE}T00:00:00"), 100),
            "GET /v2/projects": pages(d("/v2/projects"), 100),
            "GET /v2/persons": pages(len(persons), 50),
            "GET /v2/persons/{person_id}/employments": sum(
                pages(d(f"/v2/persons/{p['id']}/employments"), 50) for p in persons
            ),
            "GET /v2/absence-periods": pages(len(absence_periods), 100),
            "GET /v2/absence-periods/{id}/breakdowns": sum(
                pages(d(f"/v2/absence-periods/{p['id']}/breakdowns"), 28) for p in absence_periods
            ),
            "GET /v2/legal-entities": pages(d("/v2/legal-entities"), 100),
            "GET /v2/org-units": pages(d("/v2/org-units?type=department"), 100) + pages(d("/v2/org-units?type=team"), 100),
            "GET /v2/cost-centers": pages(d("/v2/cost-centers"), 100),
            "GET /v2/workplaces": pages(d("/v2/workplaces"), 100),
            "GET /v2/compensations/types": pages(d("/v2/compensations/types"), 100),
            "GET /v2/compensations": compensation_requests(sb, dt.date.fromisoformat(START_DATE)),
            "GET /v2/recruiting/candidates": pages(d("/v2/recruiting/candidates"), 200),
            "GET /v2/recruiting/applications": pages(len(applications), 200),
            "GET /v2/recruiting/applications/{id}/stage-transitions": sum(
                pages(d(f"/v2/recruiting/applications/{a['id']}/stage-transitions"), 200) for a in applications
            ),
            "GET /v2/recruiting/jobs": pages(d("/v2/recruiting/jobs"), 200),
            "GET /v2/recruiting/categories": pages(d("/v2/recruiting/categories"), 200),
            # the employee_attributes stream, and the employees schema discovered from the same list
            "GET /v1/company/employees/attributes": 2,
        }
    )
    return minimal


# lists a second stream reads again as its parent
PARENT_LISTS = (
    "GET /v1/company/employees",
    "GET /v1/company/custom-reports/reports",
    "GET /v2/persons",
    "GET /v2/absence-periods",
    "GET /v2/recruiting/applications",
)


# v2 lists read in updated_at windows of one page each (docs/personio.md, "How v2 lists survive changes"),
# with Personio's page size: a list of one page costs one request. A longer one costs its whole-list request
# (oversized: a next link) and then windows that each hold at most a page, so at least one more request per
# page of records; attendances ask for sort=updated_at and go on from each oversized page's last record,
# so their pages suffice. Window widths are estimated from the density just seen, so uneven updated_at
# (bursts) cost splits and near-empty windows: at most four requests per page of records.
WINDOWED = {
    "GET /v2/attendance-periods": (100, True),
    "GET /v2/persons": (50, False),
    "GET /v2/absence-periods": (100, False),
    "GET /v2/recruiting/applications": (200, False),
}


def windowed_requests(key: str, n: int) -> range:
    """The requests one windowed read of ``n`` records may make (a range: see WINDOWED)."""
    size, sorted_by_updated_at = WINDOWED[key]
    if n <= size:
        return range(1, 2)
    fewest = pages(n, size) + (0 if sorted_by_updated_at else 1)
    return range(fewest, 1 + 4 * pages(n, size) + 1)


def assert_windowed(made: Dict[str, int], key: str, n: int, reads: int = 1, plus: int = 0) -> None:
    bounds = windowed_requests(key, n)
    low, high = reads * bounds.start + plus, reads * (bounds.stop - 1) + plus
    assert low <= made.get(key, 0) <= high, f"{key}: {made.get(key)} requests for {n} records, expected {low}..{high}"


def test_the_sandbox_list_of_employees_is_an_exact_multiple_of_the_page(sb):
    assert len(sb.dataset("/v1/company/employees")) % 100 == 0


def test_a_full_sync_makes_the_fewest_requests_per_endpoint(sb, full):
    _, made = full
    expected = minimal_full_sync(sb)
    for key in PARENT_LISTS:
        expected[key] *= 2
    records = {
        "GET /v2/attendance-periods": len(sb.dataset(f"/v2/attendance-periods?updated_at.gte={START_DATE}T00:00:00")),
        "GET /v2/persons": len(sb.dataset("/v2/persons")),
        "GET /v2/absence-periods": len(sb.dataset(f"/v2/absence-periods?updated_at.gte={START_DATE}T00:00:00")),
        "GET /v2/recruiting/applications": len(sb.dataset("/v2/recruiting/applications")),
    }
    assert records["GET /v2/persons"] > 50, "persons span several windows"
    for key, n in records.items():
        assert_windowed(made, key, n, reads=2 if key in PARENT_LISTS else 1)
    assert {k: v for k, v in made.items() if k not in WINDOWED} == {k: v for k, v in expected.items() if k not in WINDOWED}


def test_one_token_per_api_version(full):
    _, made = full
    assert made["POST /v1/auth"] == 1 and made["POST /v2/auth/token"] == 1


def test_an_incremental_sync_without_changes_costs_one_request_per_incremental_stream(sb, cfg, streams, full):
    output, _ = full
    state = final_states(output)
    # the latest effective_date of the compensations that exist from start_date through today (the data
    # model, not the connector's state); the full sync's state must name it
    today = dt.datetime.now(dt.timezone.utc).date()
    latest = max(
        dt.date.fromisoformat(r["effective_date"][:10])
        for r in sb.truth("compensations", start_date=START_DATE, end_date=str(today))
        if START_DATE <= r["effective_date"][:10] <= str(today)
    )
    saved = next(s.stream.stream_state.effective_date for s in state if s.stream.stream_descriptor.name == "compensations")
    assert dt.date.fromisoformat(saved) == latest
    _, made = sync(sb, cfg, streams, state)
    minimal = minimal_full_sync(sb)
    persons = sb.dataset("/v2/persons")
    full_refresh = {
        key: minimal[key]
        for key in (
            "GET /v1/company/time-off-types",
            "GET /v1/company/document-categories",
            "GET /v1/company/custom-reports/reports/{report_id}",
            "GET /v2/projects",
            "GET /v2/legal-entities",
            "GET /v2/org-units",
            "GET /v2/cost-centers",
            "GET /v2/workplaces",
            "GET /v2/compensations/types",
            "GET /v2/recruiting/jobs",
            "GET /v2/recruiting/categories",
            "GET /v1/company/employees/attributes",
            "GET /v2/reports",
        )
    }
    every_sync = {
        # custom_reports_list + the custom_reports parent
        "GET /v1/company/custom-reports/reports": 2 * minimal["GET /v1/company/custom-reports/reports"],
        # balances: every employee on every sync (the full list as parent + one request each)
        "GET /v1/company/employees/{employee_id}/absences/balance": EMPLOYEES,
    }
    incremental = {
        # employees stream (updated_since, one page) + the balances parent (full list)
        "GET /v1/company/employees": 1 + minimal["GET /v1/company/employees"],
        "GET /v1/company/time-offs": 1,
        "GET /v2/attendance-periods": 1,
        # persons stream + the employments parent (every person, by default; asserted below), then one
        # employments request per person (updated_at.gt the state: nothing changed, one page each)
        "GET /v2/persons/{person_id}/employments": len(persons),
        # absence_periods stream + the breakdowns parent; no breakdown of an unchanged period
        "GET /v2/absence-periods": 2,
        "GET /v2/recruiting/candidates": 1,
        # applications stream + the stage-transitions parent; no transitions of an unchanged application
        "GET /v2/recruiting/applications": 2,
        # from 3 months (compensations_lookback_months) before the latest effective_date read (never
        # before start_date), in windows of a month, through today
        "GET /v2/compensations": compensation_requests(sb, max(dt.date.fromisoformat(START_DATE), months_back(latest, 3))),
    }
    expected = {**AUTH, **full_refresh, **every_sync, **incremental}
    # the persons stream: one request (nothing changed); the employments parent: every person, windowed
    assert_windowed(made, "GET /v2/persons", len(persons), plus=1)
    assert {k: v for k, v in made.items() if k != "GET /v2/persons"} == {k: v for k, v in expected.items() if v}
