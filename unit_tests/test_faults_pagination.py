"""ShiftTolerantV1Pagination: v1 pages that overlap or drift never cause a gap, an early stop or a loop."""

from __future__ import annotations

import json

import pytest
import requests

from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.components import ShiftTolerantV1Pagination


def page(ids, total_elements=999, wrapped=True):
    data = [{"type": "Employee", "attributes": {"id": {"label": "ID", "value": i}}} if wrapped else {"type": "TimeOffPeriod", "attributes": {"id": i}} for i in ids]
    r = requests.Response()
    r.status_code = 200
    r._content = json.dumps({"success": True, "metadata": {"total_elements": total_elements}, "data": data}).encode()
    return r


def strategy(unit="record", size=3):
    return ShiftTolerantV1Pagination(config={}, parameters={"name": "employees"}, page_size=size, offset_unit=unit)


def test_record_offsets_advance_by_page_size_and_stop_on_a_short_page():
    s = strategy()
    assert s.initial_token == 0
    assert s.next_page_token(page([1, 2, 3]), 3, None, 0) == 3
    assert s.next_page_token(page([4, 5, 6]), 3, None, 3) == 6
    assert s.next_page_token(page([7]), 1, None, 6) is None


def test_total_elements_is_never_what_ends_the_read():
    s = strategy()
    assert s.next_page_token(page([1, 2, 3], total_elements=2), 3, None, 0) == 3
    assert s.next_page_token(page([], total_elements=50), 0, None, 3) is None


def test_a_page_starting_with_the_previous_pages_record_is_requested_again():
    s = strategy()
    s.next_page_token(page([1, 2, 3]), 3, None, 0)
    # the window slipped: record 3 again, record 6 pushed out -> same offset once more
    assert s.next_page_token(page([3, 4, 5]), 3, None, 3) == 3
    # the retry is clean -> continue normally
    assert s.next_page_token(page([4, 5, 6]), 3, None, 3) == 6


def test_a_persistent_overlap_advances_only_by_the_new_records():
    s = strategy()
    s.next_page_token(page([1, 2, 3]), 3, None, 0)
    assert s.next_page_token(page([3, 4, 5]), 3, None, 3) == 3
    assert s.next_page_token(page([3, 4, 5]), 3, None, 3) == 5  # offset 5 starts right after record 5


def test_a_page_of_nothing_but_repeats_fails_clearly_instead_of_looping():
    s = strategy()
    s.next_page_token(page([1, 2, 3]), 3, None, 0)
    assert s.next_page_token(page([1, 2, 3]), 3, None, 3) == 3
    with pytest.raises(AirbyteTracedException) as error:
        s.next_page_token(page([1, 2, 3]), 3, None, 3)
    assert "employees" in error.value.message and "same records again" in error.value.message


def test_page_numbers_start_at_one_and_re_request_an_overlapping_page():
    s = strategy(unit="page")
    assert s.initial_token == 1
    assert s.next_page_token(page([1, 2, 3], wrapped=False), 3, None, 1) == 2
    assert s.next_page_token(page([3, 4, 5], wrapped=False), 3, None, 2) == 2
    assert s.next_page_token(page([4, 5, 6], wrapped=False), 3, None, 2) == 3
    assert s.next_page_token(page([7], wrapped=False), 1, None, 3) is None


def test_a_new_read_forgets_the_previous_reads_pages():
    s = strategy()
    s.next_page_token(page([1, 2, 3]), 3, None, 0)
    s.next_page_token(page([4, 5, 6]), 3, None, 3)
    # a second sync in the same process reads the same records from offset 0 again: no overlap
    assert s.next_page_token(page([1, 2, 3]), 3, None, 0) == 3
    assert s.next_page_token(page([4, 5, 6]), 3, None, 3) == 6
