"""v2 lists read in updated_at windows of one page each (source_personio/time_windows.py).

Every scenario reads a stream through the real connector against a mocked v2 list that applies the filters
Personio documents for it (attendance periods: ``updated_at.gte``/``.lte``, naive; persons:
``updated_at.gt``/``.lt``) and pages by position (the less convenient cursor: an offset into the current
list). Ground truth is the mocked list itself.
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from typing import List

import pytest
import requests_mock

from source_personio.timestamps import epoch_seconds
from personio_mocks import BASE, read_stream
from windowed_list import V2_TOKEN, V2List, attendance_list, person_list, read, records_at


def assert_each_once(ids: List[str], expected: set) -> None:
    counts = Counter(ids)
    assert set(counts) >= expected, f"missing: {sorted(expected - set(counts))[:10]}"
    assert not {k: n for k, n in counts.items() if n > 1}, "emitted more than once"


def test_a_list_answered_in_one_page_is_one_request(config):
    lst = attendance_list(records_at([60 * i for i in range(40)]))
    ids, _ = read("attendances", lst, config)
    assert_each_once(ids, lst.ids())
    assert len(lst.requests) == 1
    assert "updated_at.lte" not in lst.requests[0] and "cursor" not in lst.requests[0]


@pytest.mark.parametrize("stream, make", [("persons", person_list), ("attendances", attendance_list)])
def test_a_delete_behind_the_read_position_loses_no_unchanged_record(config, stream, make):
    # 450 records over 30 days in an order unrelated to updated_at (persons: by id); right after the first
    # response its first record is deleted: followed by position, the next page would skip one unchanged record
    def delete_first(n: int, lst: V2List) -> None:
        if n == 1:
            lst.records.pop(0)

    records = records_at([5760 * i for i in range(450)])
    random.Random(3).shuffle(records)
    lst = make(records, after_request=delete_first)
    ids, _ = read(stream, lst, config)
    assert_each_once(ids, lst.ids())
    assert not any("cursor" in q for q in lst.requests), "distinct timestamps never need the cursor"


def test_window_starts_never_move_back(config):
    lst = attendance_list(records_at([5760 * i for i in range(450)]))
    read("attendances", lst, config)
    starts = [q["updated_at.gte"] for q in lst.requests]
    assert starts == sorted(starts) and len(lst.requests) > 4


def test_a_sorted_list_costs_about_its_pages(config):
    # attendances ask for sort=updated_at: an oversized page goes on from its last record, no split
    lst = attendance_list(records_at([600 * i for i in range(1000)]))
    ids, _ = read("attendances", lst, config)
    assert_each_once(ids, lst.ids())
    assert all(q.get("sort") == "updated_at" for q in lst.requests)
    # pages, one more per window of ten pages, and windows widening (x4 each) across the empty years
    # between the last record (March 2024) and now
    assert len(lst.requests) <= 1.25 * 1000 / 100 + 3 + 6, len(lst.requests)
    assert all("updated_at.lte" in q for q in lst.requests[1:-1]), "windows bounded above but the last"


def test_window_width_adapts_so_oversized_windows_are_rare(config):
    # 2,000 persons changed evenly over 200 days, listed by id, 50 per page: at least 40 windows are needed
    records = records_at([8640 * i for i in range(2000)])
    random.Random(5).shuffle(records)
    lst = person_list(records)
    ids, _ = read("persons", lst, config)
    assert_each_once(ids, lst.ids())
    windows = len(lst.requests)
    assert windows <= 2000 / 50 * 1.6 + 20, f"{windows} requests for 40 pages of persons"
    assert lst.with_next <= windows * 0.25, f"{lst.with_next} of {windows} windows were oversized"


def test_more_than_a_page_with_one_timestamp_is_read_with_the_cursor_and_confirmed(config, caplog):
    seconds = [0] * 5 + [3600] * 160 + [7200 + i for i in range(5)]
    lst = person_list(records_at(seconds))
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        ids, _ = read("persons", lst, config)
    assert_each_once(ids, lst.ids())
    assert any("cursor" in q for q in lst.requests)
    assert not [r for r in caplog.records if "share the updated_at window" in r.getMessage()]


def test_a_same_second_window_that_keeps_changing_gives_one_warning(config, caplog):
    seconds = [0] * 5 + [3600] * 160 + [7200 + i for i in range(5)]

    def insert(n: int, lst: V2List) -> None:  # a new record in the crowded second after every request
        lst.records.insert(10, records_at([3600])[0] | {"id": f"extra{n}"})

    lst = person_list(records_at(seconds), after_request=insert)
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        ids, _ = read("persons", lst, config)
    warnings = [r.getMessage() for r in caplog.records if "share the updated_at window" in r.getMessage()]
    assert len(warnings) == 1 and "persons" in warnings[0], warnings
    assert set(ids) >= {r["id"] for r in records_at(seconds)}


@pytest.mark.parametrize(
    "stream, make, allowed, naive",
    [("attendances", attendance_list, {"updated_at.gte", "updated_at.lte"}, True), ("persons", person_list, {"updated_at.gt", "updated_at.lt"}, False)],
)
def test_requests_carry_only_the_filter_forms_the_endpoint_documents(config, stream, make, allowed, naive):
    lst = make(records_at([3000 * i for i in range(400)]))
    ids, _ = read(stream, lst, config)
    assert_each_once(ids, lst.ids())
    used = {k for q in lst.requests for k in q if k.startswith("updated_at")}
    assert used and used <= allowed, used
    for q in lst.requests:
        for k in used & set(q):
            assert q[k].endswith("Z") != naive, (k, q[k])


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("1970-01-01T00:01:00Z", 60),
        ("1970-01-01T00:01:00", 60),
        ("1970-01-01T01:01:00+01:00", 60),
        ({"date-time": "1970-01-01T02:01:00+02:00", "timezone": "Europe/Berlin"}, 60),
        ("", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_personio_timestamps_in_every_form_read_as_utc_seconds(value, seconds):
    assert epoch_seconds(value) == seconds


def test_a_crowded_second_whose_next_link_keeps_naming_the_same_cursor_fails_the_stream_clearly(config):
    class Stuck(V2List):
        def respond(self, request, context):
            body = super().respond(request, context)
            if "next" in body["_meta"]["links"]:
                body["_meta"]["links"]["next"] = {"href": f"{self.path}?cursor=cur_100"}
            return body

    lst = Stuck("/v2/persons", records_at([3600] * 160), 50, ("gt", "lt"), False)
    with requests_mock.Mocker() as mocker:
        mocker.post(f"{BASE}/v2/auth/token", json=V2_TOKEN)
        mocker.get(re.compile(re.escape(BASE + lst.path) + r"(\?.*)?$"), json=lst.respond)
        output = read_stream("persons", config, expecting_exception=True)
    assert any("same cursor" in e.trace.error.message for e in output.errors)
    assert len(lst.requests) < 40, "no endless loop"
