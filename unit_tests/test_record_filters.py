"""EmitEachRecordOnce: overlapping and re-read v1 pages never emit a record twice in one read.
EmitEachWindowedRecordOnce: updated_at windows of v2 lists emit each record version once, remembering only
the windows being read."""

from __future__ import annotations

import random
from collections import Counter
from typing import List

import pytest
from airbyte_cdk.sources.types import StreamSlice

from source_personio.record_filters import EmitEachRecordOnce, EmitEachWindowedRecordOnce
from windowed_list import person_list, read, records_at, stamp


def employee(i):
    return {"type": "Employee", "attributes": {"id": {"label": "ID", "value": i}, "first_name": {"value": f"n{i}"}}}


def time_off(i):
    return {"type": "TimeOffPeriod", "attributes": {"id": i}}


def run(f, records, stream_slice):
    return list(f.filter_records(records, stream_state={}, stream_slice=stream_slice))


def test_a_record_repeated_on_a_later_page_of_the_same_read_is_dropped():
    f = EmitEachRecordOnce(config={}, parameters={})
    read = StreamSlice(partition={}, cursor_slice={})
    assert run(f, [employee(1), employee(2), employee(3)], read) == [employee(1), employee(2), employee(3)]
    assert run(f, [employee(3), employee(4)], read) == [employee(4)]
    assert run(f, [time_off(7), time_off(7)], read) == [time_off(7)]


def test_a_new_read_emits_every_record_again():
    f = EmitEachRecordOnce(config={}, parameters={})
    assert len(run(f, [employee(1), employee(2)], StreamSlice(partition={}, cursor_slice={}))) == 2
    assert len(run(f, [employee(1), employee(2)], StreamSlice(partition={}, cursor_slice={}))) == 2


def test_slices_read_side_by_side_do_not_share_what_they_emitted():
    f = EmitEachRecordOnce(config={}, parameters={}, key=["report_id", "employee_id", "effective_date"])
    a = StreamSlice(partition={"report_id": "a"}, cursor_slice={})
    b = StreamSlice(partition={"report_id": "b"}, cursor_slice={})
    row = {"report_id": "a", "employee_id": 1, "effective_date": ""}
    assert run(f, [row], a) == [row]
    assert run(f, [row], b) == [row]
    assert run(f, [row], a) == []


def test_rows_differing_in_one_key_field_are_different_records():
    f = EmitEachRecordOnce(config={}, parameters={}, key=["employee_id", "effective_date"])
    read = StreamSlice(partition={}, cursor_slice={})
    rows = [{"employee_id": 1, "effective_date": "2024-01-01"}, {"employee_id": 1, "effective_date": "2024-02-01"}]
    assert run(f, rows + rows, read) == rows


def test_a_record_without_a_key_is_never_dropped():
    f = EmitEachRecordOnce(config={}, parameters={})
    read = StreamSlice(partition={}, cursor_slice={})
    odd = {"type": "TimeOffPeriod", "attributes": {"status": "approved"}}
    assert run(f, [odd, odd], read) == [odd, odd]


# ---------------------------------------------------------------- EmitEachWindowedRecordOnce


def version(i, second):
    return {"id": f"p{i}", "updated_at": stamp(second)}


def test_a_record_version_repeated_by_a_later_window_of_the_same_read_is_dropped():
    f = EmitEachWindowedRecordOnce(config={}, parameters={})
    read = StreamSlice(partition={}, cursor_slice={})
    assert run(f, [version(1, 10), version(2, 20)], read) == [version(1, 10), version(2, 20)]
    assert run(f, [version(2, 20), version(3, 30)], read) == [version(3, 30)]


def test_a_record_changed_during_the_read_is_emitted_in_both_versions_newest_last():
    f = EmitEachWindowedRecordOnce(config={}, parameters={})
    read = StreamSlice(partition={}, cursor_slice={})
    assert run(f, [version(1, 10)], read) == [version(1, 10)]
    assert run(f, [version(1, 90)], read) == [version(1, 90)]


def test_the_condition_applies_first():
    f = EmitEachWindowedRecordOnce(config={}, parameters={}, condition="{{ record['id'] != 'p2' }}")
    read = StreamSlice(partition={}, cursor_slice={})
    assert run(f, [version(1, 10), version(2, 10)], read) == [version(1, 10)]


def test_a_record_without_a_readable_updated_at_is_never_dropped():
    f = EmitEachWindowedRecordOnce(config={}, parameters={})
    read = StreamSlice(partition={}, cursor_slice={})
    odd = {"id": "p1", "updated_at": None}
    assert run(f, [odd, odd], read) == [odd, odd]


def test_wrapped_recruiting_timestamps_are_one_version():
    f = EmitEachWindowedRecordOnce(config={}, parameters={})
    read = StreamSlice(partition={}, cursor_slice={})
    wrapped = {"id": "a1", "updated_at": {"date-time": "2024-03-01T12:00:00+01:00", "timezone": "Europe/Berlin"}}
    assert run(f, [wrapped, dict(wrapped)], read) == [wrapped]


@pytest.mark.parametrize("persons", [2000, 8000])
def test_a_long_windowed_read_keeps_only_the_windows_being_read_in_memory(config, monkeypatch, persons):
    # persons changed evenly over the list's time range, listed in an order unrelated to updated_at
    # (Personio lists persons by id), 50 per page; the v1 filter would keep every key of the read
    filters: List[EmitEachWindowedRecordOnce] = []
    original = EmitEachWindowedRecordOnce.__post_init__

    def register(self, parameters):
        original(self, parameters)
        filters.append(self)

    monkeypatch.setattr(EmitEachWindowedRecordOnce, "__post_init__", register)
    records = records_at([9000 * i for i in range(persons)])  # until mid 2026: none in the future
    random.Random(7).shuffle(records)
    lst = person_list(records)
    ids, _ = read("persons", lst, config)
    assert Counter(ids) == Counter(lst.ids()), "each person once"
    assert lst.with_next > 0, "windows were split (their pages repeated)"
    held = max(f.largest_held for f in filters)
    # a page per window being read: the open first request's page, the split window's pages, the boundary
    assert held <= 6 * 50, f"{held} record versions kept while reading {persons} persons"
