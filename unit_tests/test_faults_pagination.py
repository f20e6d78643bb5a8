"""v1 pages that overlap, drift or repeat records never cause a gap, an early stop or a loop.

The paginators of source_personio/pagination.py on their own, page by page: the token each answer
leads to (record offsets as strings; page-number tokens as ``{"page", "limit"}``).
"""

from __future__ import annotations

import json
import logging

import requests

from airbyte_cdk.sources.types import StreamSlice

from source_personio.pagination import OverlappingPageNumberPagination, OverlappingRecordOffsetPagination


def page(ids, total_elements=999, wrapped=True):
    data = [{"type": "Employee", "attributes": {"id": {"label": "ID", "value": i}}} if wrapped else {"type": "TimeOffPeriod", "attributes": {"id": i}} for i in ids]
    r = requests.Response()
    r.status_code = 200
    r._content = json.dumps({"success": True, "metadata": {"total_elements": total_elements}, "data": data}).encode()
    return r


def strategy(size=3, **kwargs):
    return OverlappingRecordOffsetPagination(config={}, parameters={"name": "employees"}, page_size=size, **kwargs)


def test_record_offsets_overlap_by_one_record_and_stop_on_a_short_page():
    s = strategy()
    assert s.initial_token == "0"
    assert s.next_page_token(page([1, 2, 3]), 3, None, "0") == "2"
    assert s.next_page_token(page([3, 4, 5]), 3, None, "2") == "4"
    assert s.next_page_token(page([5]), 1, None, "4") is None


def test_total_elements_alone_never_ends_the_read():
    s = strategy()
    assert s.next_page_token(page([1, 2, 3], total_elements=2), 3, None, "0") == "2"
    assert s.next_page_token(page([3, 4, 5], total_elements=50), 3, None, "2") == "4"


def test_a_page_starting_one_record_early_joins_and_the_next_one_starts_at_its_last_record():
    """Personio has served a record of the previous page again while the page's last one went
    missing (the window slipped by one). The page still joins; the record it pushed out is read next."""
    s = strategy()
    s.next_page_token(page([1, 2, 3]), 3, None, "0")
    assert s.next_page_token(page([2, 3, 4]), 3, None, "2") == "4"  # expected 3,4,5: offset 4 holds 5
    # offset 4 answers 5, 6, 7: no record read before, so the read steps back to the window before it
    assert s.next_page_token(page([5, 6, 7]), 3, None, "4") == "2"
    # offset 2 answers 3, 4, 5: it joins, and so does the page set aside (it holds 5): continue after 7
    assert s.next_page_token(page([3, 4, 5]), 3, None, "2") == "6"
    assert s.next_page_token(page([7]), 1, None, "6") is None


def test_a_page_of_nothing_but_repeats_still_advances_instead_of_looping():
    s = strategy()
    s.next_page_token(page([1, 2, 3]), 3, None, "0")
    assert s.next_page_token(page([1, 2, 3]), 3, None, "2") == "4"
    assert s.next_page_token(page([1, 2, 3]), 3, None, "4") == "6"


def test_an_empty_page_beyond_the_start_steps_back_instead_of_ending():
    """The list shrank below the offset asked for: the records that moved left are read first."""
    s = strategy()
    s.next_page_token(page([1, 2, 3], total_elements=9), 3, None, "0")
    # records 1..4 were deleted: the list is 5..9, offset 2 is 7, 8, 9 -- none read before
    assert s.next_page_token(page([7, 8, 9], total_elements=5), 3, None, "2") == "0"
    # offset 0 joins, and so does the page set aside (it holds 7); one more page confirms the end
    assert s.next_page_token(page([5, 6, 7], total_elements=5), 3, None, "0") == "4"
    assert s.next_page_token(page([9], total_elements=5), 1, None, "4") is None
    s = strategy()
    s.next_page_token(page([1, 2, 3], total_elements=4), 3, None, "0")
    # everything after record 1 deleted: offset 2 is empty, total_elements says 1 -> step back to its end
    assert s.next_page_token(page([], total_elements=1), 0, None, "2") == "0"
    assert s.next_page_token(page([1], total_elements=1), 1, None, "0") is None


def test_page_numbers_start_at_one_and_pick_a_limit_whose_page_starts_at_the_last_record():
    s = OverlappingPageNumberPagination(config={}, parameters={"name": "absences"}, page_size=200)
    assert s.initial_token == {"page": 1, "limit": 200}
    token = s.next_page_token(page(range(1, 201), wrapped=False), 200, None, s.initial_token)
    assert token == {"page": 2, "limit": 199}  # positions 199..397
    assert s.next_page_token(page(range(200, 398), wrapped=False), 198, None, token) is None


def test_a_new_read_forgets_the_previous_reads_pages():
    s = strategy()
    first = StreamSlice(partition={}, cursor_slice={})
    s.next_page_token(page([1, 2, 3]), 3, None, "0", stream_slice=first)
    # a second sync in the same process reads a different list from offset 0: its pages are judged alone
    second = StreamSlice(partition={}, cursor_slice={})
    assert s.next_page_token(page([7, 8, 9]), 3, None, "0", stream_slice=second) == "2"
    assert s.next_page_token(page([9, 10, 11]), 3, None, "2", stream_slice=second) == "4"
    # and the first read's state is still its own
    assert s.next_page_token(page([3, 4, 5]), 3, None, "2", stream_slice=first) == "4"


def test_re_reads_are_bounded_and_exhausting_them_warns_once(caplog):
    s = strategy(max_rereads=2)
    s.next_page_token(page([1, 2, 3]), 3, None, "0")  # 1 page that reached further: 2 + 1 re-reads allowed
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        for _ in range(3):
            assert s.next_page_token(page([10, 11, 12]), 3, None, "2") == "0"  # never joins: step back
            assert s.next_page_token(page([1, 2, 3]), 3, None, "0") == "2"
        # the 4th page that does not join exhausts the re-reads: warn, then read on unchecked after it
        assert s.next_page_token(page([10, 11, 12]), 3, None, "2") == "4"
        assert s.next_page_token(page([50, 51, 52]), 3, None, "4") == "6"
        assert s.next_page_token(page([60]), 1, None, "6") is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "employees" in warnings[0] and "may be missing" in warnings[0]


def test_a_page_without_a_list_of_records_ends_the_read_with_a_warning(caplog):
    s = strategy()
    s.next_page_token(page([1, 2, 3]), 3, None, "0")
    body = requests.Response()
    body.status_code = 200
    body._content = b'{"success": true, "metadata": {"total_elements": 9}}'
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        assert s.next_page_token(body, 0, None, "2") is None
    assert any("employees" in r.getMessage() and "may be missing" in r.getMessage() for r in caplog.records)
