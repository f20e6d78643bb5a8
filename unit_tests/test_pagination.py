"""v1 offset paging while Personio's list changes under the read (source_personio/pagination.py).

Every scenario reads a stream through the real connector against a mocked list that is edited right
after the N-th page was served (shifting_list.py). Ground truth is the mocked list itself: every
record present from the first request to the last must be emitted, exactly once, and nothing that
never existed; the read ends without error.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Callable, Dict, List

import pytest
import requests_mock

from personio_mocks import read_stream, record_data
from shifting_list import ShiftingList, employee, mock_v1_basics, report_item, time_off, time_off_type
from source_personio.pagination import (
    CustomReportPagination,
    OverlappingPageNumberPagination,
    OverlappingRecordOffsetPagination,
)
import json
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from source_personio.pagination import PersonioCursorPagination

STREAMS: Dict[str, Dict[str, Any]] = {
    # stream: the mocked endpoint, how its offset counts, Personio's largest page, the record's key
    "employees": dict(path="/company/employees", kind="record", render=employee, max_limit=100, key=lambda r: r["id"]),
    "absence_types": dict(path="/company/time-off-types", kind="record", render=time_off_type, max_limit=None, key=lambda r: r["id"]),
    "absences": dict(path="/company/time-offs", kind="page", render=time_off, max_limit=200, key=lambda r: r["id"]),
    "custom_reports": dict(path="/company/custom-reports/reports/rep-1", kind="report", render=report_item, max_limit=1000, key=lambda r: r["employee_id"]),
}


def shifting(stream: str, size: int, **kwargs: Any) -> ShiftingList:
    spec = STREAMS[stream]
    return ShiftingList(spec["path"], spec["kind"], list(range(1, size + 1)), spec["render"], spec["max_limit"], **kwargs)


def read(stream: str, lst: ShiftingList, config: Dict[str, Any]) -> List[Any]:
    with requests_mock.Mocker() as mocker:
        mock_v1_basics(mocker)
        lst.mount(mocker)
        output = read_stream(stream, config)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return [STREAMS[stream]["key"](r) for r in record_data(output)]


def assert_complete_and_once(keys: List[Any], lst: ShiftingList) -> None:
    counts = Counter(keys)
    missing = lst.survivors() - set(counts)
    assert not missing, f"{len(missing)} records that existed throughout were not emitted: {sorted(missing)[:10]}"
    repeated = {k: n for k, n in counts.items() if n > 1}
    assert not repeated, f"emitted more than once: {repeated}"
    invented = set(counts) - lst.ever()
    assert not invented, f"never existed: {invented}"


def first_of_page(lst: ShiftingList, page: int, size: int) -> int:
    return lst.ids[(page - 1) * size]


# ---------------------------------------------------------------- record offset: employees (100 per page)

EMPLOYEE_CHANGES: Dict[str, Callable[[ShiftingList], None]] = {
    # positions in the list as it is when the change fires (page 1 = positions 0..99)
    "20 deletes before the boundary": lambda l: l.delete(*l.ids[40:60]),
    "a delete at the boundary (the last record of page 1)": lambda l: l.delete(l.ids[99]),
    "deletes at both sides of the boundary": lambda l: l.delete(*l.ids[95:105]),
    "20 deletes after the boundary": lambda l: l.delete(*l.ids[120:140]),
    "20 inserts before the boundary": lambda l: l.insert(50, 20),
    "an insert at the boundary": lambda l: l.insert(99, 1),
    "deletes and as many inserts before the boundary (total unchanged)": lambda l: (l.delete(*l.ids[10:20]), l.insert(30, 10)),
    "deletes of 99 records of page 1": lambda l: l.delete(*l.ids[0:99]),
    "150 inserts before the boundary (more than a page)": lambda l: l.insert(10, 150),
    "the list shrinking to fewer pages": lambda l: l.delete(*l.ids[0:200]),
    "the last record deleted": lambda l: l.delete(l.ids[-1]),
}


@pytest.mark.parametrize("after", [1, 2, 4], ids=["after the first page", "in the middle", "before the last page"])
@pytest.mark.parametrize("change", list(EMPLOYEE_CHANGES))
def test_employees_changed_during_the_read_lose_nothing_and_repeat_nothing(config, change, after):
    # 400 employees: pages at offsets 0, 99, 198, 297 and 396 when nothing changes
    lst = shifting("employees", 400).after(after, EMPLOYEE_CHANGES[change])
    assert_complete_and_once(read("employees", lst, config), lst)


def test_twenty_employees_deleted_after_the_first_page_of_three_hundred(config):
    """The measured case: 20 deleted right after page 1 of a full refresh left 15 existing employees out."""
    lst = shifting("employees", 300).after(1, lambda l: l.delete(*l.ids[0:100:5]))
    keys = read("employees", lst, config)
    assert_complete_and_once(keys, lst)
    # the deleted ones had been read on page 1 (they existed then): every employee, once
    assert sorted(keys) == list(range(1, 301))


def test_one_insert_between_two_pages_emits_no_duplicate(config):
    """The measured case: one insertion between two pages of 100 emitted a page's records twice."""
    lst = shifting("employees", 2000).after(3, lambda l: l.insert(150, 1))
    keys = read("employees", lst, config)
    assert_complete_and_once(keys, lst)
    assert len(keys) == len(set(keys))
    # 2,000 records at 99 new per page after the first: 21 pages; the insert repeats one record, no page
    assert len(lst.requests) <= 21 + 1


def test_several_changes_between_every_two_pages_lose_nothing(config):
    lst = shifting("employees", 1000)
    for n in range(1, 12):
        lst.after(n, lambda l, n=n: (l.delete(*l.ids[n * 7:n * 7 + 3]), l.insert(n * 50, 2), l.delete(l.ids[n * 80])))
    assert_complete_and_once(read("employees", lst, config), lst)


def test_a_list_shrinking_to_one_page_while_the_second_is_read(config):
    lst = shifting("employees", 250).after(1, lambda l: l.delete(*l.ids[0:200]))
    assert_complete_and_once(read("employees", lst, config), lst)


def test_a_list_emptied_after_the_first_page_ends_the_read(config):
    lst = shifting("employees", 250).after(1, lambda l: l.delete(*list(l.ids)))
    keys = read("employees", lst, config)
    assert sorted(keys) == list(range(1, 101))  # what page 1 served, once each


def test_without_total_elements_deletes_still_lose_nothing(config):
    lst = shifting("employees", 300, total_elements=False).after(1, lambda l: l.delete(*l.ids[0:100:5]))
    assert_complete_and_once(read("employees", lst, config), lst)


def test_time_off_types_deleted_after_the_first_page_lose_nothing(config):
    lst = shifting("absence_types", 500).after(1, lambda l: l.delete(*l.ids[10:40]))
    assert_complete_and_once(read("absence_types", lst, config), lst)


# ---------------------------------------------------------------- page numbers: time-offs (200 per page)

TIME_OFF_CHANGES: Dict[str, Callable[[ShiftingList], None]] = {
    "20 deletes before the boundary": lambda l: l.delete(*l.ids[50:70]),
    "a delete at the boundary": lambda l: l.delete(l.ids[199]),
    "20 deletes after the boundary": lambda l: l.delete(*l.ids[210:230]),
    "20 inserts before the boundary": lambda l: l.insert(20, 20),
    "deletes and as many inserts (total unchanged)": lambda l: (l.delete(*l.ids[0:15]), l.insert(100, 15)),
    "300 inserts (more than a page)": lambda l: l.insert(5, 300),
    "the list shrinking to fewer pages": lambda l: l.delete(*l.ids[0:450]),
    "the last record deleted": lambda l: l.delete(l.ids[-1]),
}


@pytest.mark.parametrize("after", [1, 2])
@pytest.mark.parametrize("change", list(TIME_OFF_CHANGES))
def test_time_offs_changed_during_the_read_lose_nothing_and_repeat_nothing(config, change, after):
    lst = shifting("absences", 700).after(after, TIME_OFF_CHANGES[change])
    assert_complete_and_once(read("absences", lst, config), lst)


def test_twenty_time_offs_deleted_after_the_first_page(config):
    """The measured case: 20 deleted after page 1 left 4 existing time-offs out."""
    lst = shifting("absences", 1000).after(1, lambda l: l.delete(*l.ids[0:200:10]))
    keys = read("absences", lst, config)
    assert_complete_and_once(keys, lst)
    assert sorted(keys) == list(range(1, 1001))  # the deleted ones were read on page 1


def test_time_offs_offset_is_a_page_number_and_limits_stay_within_personio_bounds(config):
    lst = shifting("absences", 1000)
    assert_complete_and_once(read("absences", lst, config), lst)
    assert lst.requests[0]["page"] == 1 and lst.requests[0]["limit"] == 200
    assert all(150 <= r["limit"] <= 200 and r["page"] >= 1 for r in lst.requests)
    # every page after the first starts at, or just before, the last record read: consecutive windows overlap
    ends = [r["start"] + r["limit"] for r in lst.requests]
    assert all(r["start"] < end for r, end in zip(lst.requests[1:], ends))


def test_time_offs_under_changes_at_every_page(config):
    lst = shifting("absences", 1500)
    for n in range(1, 10):
        lst.after(n, lambda l, n=n: (l.delete(*l.ids[n * 11:n * 11 + 4]), l.insert(n * 120, 3)))
    assert_complete_and_once(read("absences", lst, config), lst)


# ---------------------------------------------------------------- page numbers: custom report items (1000 per page)


@pytest.mark.parametrize(
    "change",
    [
        lambda l: l.delete(*l.ids[100:130]),
        lambda l: l.insert(10, 40),
        lambda l: l.delete(*l.ids[0:1500]),
    ],
    ids=["deletes", "inserts", "shrinks to one page"],
)
def test_custom_report_rows_changed_during_the_read_lose_nothing(config, change):
    lst = shifting("custom_reports", 2500).after(1, change)
    assert_complete_and_once(read("custom_reports", lst, config), lst)


# ---------------------------------------------------------------- bounded, never silent


def test_a_list_that_never_joins_up_ends_with_one_warning_naming_the_stream(config, caplog):
    """Every page after the first is made of records never seen before (a list replaced faster than
    it is read): the re-reads are bounded, the read ends, and one warning says what may be missing."""
    fresh = iter(range(10_000, 10_000_000))

    def serve(lst: ShiftingList, start: int, limit: int) -> List[int]:
        if start == 0:
            return lst.ids[:limit]
        return [next(fresh) for _ in range(limit)] if start < 600 else []

    lst = shifting("employees", 300, serve=serve)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        with requests_mock.Mocker() as mocker:
            mock_v1_basics(mocker)
            lst.mount(mocker)
            output = read_stream("employees", config)
    assert not output.errors
    warnings = [m.log.message for m in output.logs if m.log.level.name in ("WARN", "WARNING")]
    paging = [w for w in warnings if "employees" in w and "may be missing" in w]
    assert len(paging) == 1, warnings
    assert len(lst.requests) < 40


# ---------------------------------------------------------------- the windows asked for


@pytest.mark.parametrize("position", [0, 1, 149, 199, 200, 397, 398, 1234, 19_999, 123_456])
def test_a_page_number_window_holds_the_position_and_reaches_past_it(position):
    p = OverlappingPageNumberPagination(config={}, parameters={}, page_size=200)
    for reach in ("forward", "back"):
        window = p.window_containing(position, reach)
        start = (window["page"] - 1) * window["limit"]
        assert 150 <= window["limit"] <= 200 and window["page"] >= 1
        assert start <= position < start + window["limit"]


def fewest_overlapping_page_number_requests(n: int, largest: int) -> int:
    """Exhaustive search: the fewest (page, limit <= largest) requests, the first at page 1, each
    starting at or before the last position already covered, until n positions are covered."""
    frontier, requests = {min(largest, n)}, 1
    while max(frontier) < n:
        frontier = {((end - 1) // limit + 1) * limit for end in frontier for limit in range(1, largest + 1)}
        requests += 1
    return requests


@pytest.mark.parametrize("size", [200, 399, 1500, 2600])
def test_time_offs_without_changes_cost_the_fewest_overlapping_requests(config, size):
    lst = shifting("absences", size)
    assert_complete_and_once(read("absences", lst, config), lst)
    assert len(lst.requests) <= fewest_overlapping_page_number_requests(size, 200)


@pytest.mark.parametrize("size", [100, 101, 298, 1000])
def test_employees_without_changes_cost_one_page_per_99_new_records(config, size):
    lst = shifting("employees", size)
    assert_complete_and_once(read("employees", lst, config), lst)
    # the first page holds 100; every further one 99 new and the previous page's last record
    assert len(lst.requests) == 1 + max(0, -(-(size - 100) // 99))


def test_a_record_offset_step_back_overlaps_the_page_it_steps_back_from():
    p = OverlappingRecordOffsetPagination(config={}, parameters={}, page_size=100)
    assert p.window_containing(250, "back") == "151"  # window 151..250 holds 250
    assert p.window_containing(50, "back") == "0"
    assert p.window_containing(250, "forward") == "250"


def test_custom_report_pages_are_asked_for_with_page_and_limit_from_one():
    p = CustomReportPagination(config={}, parameters={})
    assert p.initial_token == {"page": 1, "limit": 1000}


# ---------------------------------------------------------------- v2 cursors (PersonioCursorPagination)

def response(body) -> requests.Response:
    r = requests.Response()
    r.status_code = 200
    r._content = json.dumps(body).encode()
    return r


# ---------------------------------------------------------------- FlattenAttributes


@pytest.fixture
def cursor_pagination():
    return PersonioCursorPagination(config={}, parameters={}, page_size=100)


@pytest.mark.parametrize(
    "href",
    ["https://api.personio.de/v2/attendance-periods?cursor=abc%3D%3D&limit=100", "/v2/attendance-periods?cursor=abc%3D%3D"],
)
def test_cursor_pagination_takes_the_cursor_from_absolute_and_relative_links(cursor_pagination, href):
    body = {"_data": [{}], "_meta": {"links": {"next": {"href": href}}}}
    assert cursor_pagination.next_page_token(response(body), 1, None, None) == "abc=="


def test_cursor_pagination_stops_without_a_next_link(cursor_pagination):
    body = {"_data": [{}], "_meta": {"links": {"self": {"href": "/v2/projects"}}}}
    assert cursor_pagination.next_page_token(response(body), 1, None, "x") is None


def test_cursor_pagination_re_requests_a_repeated_cursor_twice_then_fails_clearly(cursor_pagination):
    """A next link repeating the cursor just read is retried (a glitch loses nothing), but never
    followed forever and never taken as the end of the data (that would silently drop the rest)."""
    body = {"_data": [{}], "_meta": {"links": {"next": {"href": "/v2/persons?cursor=same"}}}}
    assert cursor_pagination.next_page_token(response(body), 1, None, "same") == "same"
    assert cursor_pagination.next_page_token(response(body), 1, None, "same") == "same"
    with pytest.raises(AirbyteTracedException) as error:
        cursor_pagination.next_page_token(response(body), 1, None, "same")
    assert "same cursor 3 times" in error.value.message
    assert error.value.failure_type == FailureType.system_error


# ---------------------------------------------------------------- CustomReportRowsExtractor
