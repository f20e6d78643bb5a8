"""EmitEachRecordOnce: overlapping and re-read v1 pages never emit a record twice in one read."""

from __future__ import annotations

from airbyte_cdk.sources.types import StreamSlice

from source_personio.record_filters import EmitEachRecordOnce


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
