"""Recruiting candidates read by their documented newest-first order (source_personio/newest_first.py).

A mocked ``/v2/recruiting/candidates`` serves a list sorted by ``updated_at`` descending, with positional
cursors (an offset into the list as it is when the next page is asked for: the inconvenient reading of
Personio's opaque cursors), ``updated_at.gt`` / ``.lt`` mutually exclusive (400 together), and scripted
changes applied right after the N-th list request. Ground truth is the mocked list itself.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

import requests_mock

from airbyte_cdk.models import SyncMode
from personio_mocks import BASE, read_stream, record_data

T0 = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
PATH = f"{BASE}/v2/recruiting/candidates"


def stamp(seconds: int) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class NewestFirstList:
    """``items``: id -> second (after T0) of its updated_at; ``changes``: after request N, a function of the list."""

    def __init__(self, items: Dict[str, int], changes: Optional[Dict[int, Callable[["NewestFirstList"], None]]] = None,
                 order: Callable[[List[Dict[str, Any]]], List[Dict[str, Any]]] = lambda rows: rows):
        self.items = dict(items)
        self.changes = changes or {}
        self.order = order
        self.requests: List[Dict[str, str]] = []
        self.ever = set(items)

    def rows(self) -> List[Dict[str, Any]]:
        rows = [{"id": k, "updated_at": stamp(s), "email": f"{k}@example.com"} for k, s in self.items.items()]
        return self.order(sorted(rows, key=lambda r: (-epoch(r["updated_at"]), r["id"])))

    def answer(self, request, context) -> str:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        self.requests.append(query)
        if "updated_at.gt" in query and "updated_at.lt" in query:
            context.status_code = 400
            return json.dumps({"errors": [{"title": "updated_at.gt and updated_at.lt are mutually exclusive"}]})
        rows = self.rows()
        if "updated_at.gt" in query:
            rows = [r for r in rows if epoch(r["updated_at"]) > epoch(query["updated_at.gt"])]
        if "updated_at.lt" in query:
            rows = [r for r in rows if epoch(r["updated_at"]) < epoch(query["updated_at.lt"])]
        offset, limit = int(query.get("cursor", 0)), int(query.get("limit", 100))
        page = rows[offset:offset + limit]
        body: Dict[str, Any] = {"_data": page, "_meta": {"links": {"self": {"href": request.url}}}}
        if offset + limit < len(rows):
            body["_meta"]["links"]["next"] = {"href": f"{PATH}?limit={limit}&cursor={offset + limit}"}
        change = self.changes.get(len(self.requests))
        if change:
            change(self)
        return json.dumps(body)

    def delete(self, key: str) -> None:
        self.items.pop(key, None)

    def survivors_of(self, before: Dict[str, int]) -> set:
        return set(before) & set(self.items)


def read(lst: NewestFirstList, config: Dict[str, Any], sync_mode=SyncMode.full_refresh, state=None):
    with requests_mock.Mocker() as mocker:
        mocker.post(f"{BASE}/v2/auth/token", json={"access_token": "papi-v2-token", "token_type": "Bearer", "expires_in": 86400})
        mocker.get(re.compile(re.escape(PATH) + r"(\?.*)?$"), text=lst.answer)
        output = read_stream("recruiting_candidates", config, sync_mode, state=state)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return output


def ids(output) -> List[str]:
    return [r["id"] for r in record_data(output)]


def warnings(output) -> List[str]:
    return [m.log.message for m in output.logs if m.log.level.name in ("WARN", "WARNING")]


def spread(n: int, prefix: str = "c", step: int = 7) -> Dict[str, int]:
    """n candidates, one second each, ``step`` seconds apart (the newest first in list order)."""
    return {f"{prefix}{i:04d}": i * step for i in range(n)}


def test_a_delete_among_candidates_already_read_skips_no_unchanged_candidate(config):
    items = spread(450)
    newest = max(items, key=items.get)
    lst = NewestFirstList(items, changes={1: lambda l: l.delete(newest)})  # read on page 1, then gone
    output = read(lst, config)
    emitted = ids(output)
    assert lst.survivors_of(items) <= set(emitted)
    assert not [k for k, n in Counter(emitted).items() if n > 1]
    assert not any("cursor" in q for q in lst.requests), "pages after the first are asked for by updated_at.lt"


def test_the_boundary_second_is_asked_for_again_and_emitted_once(config):
    # 200 per page: the 200th and 201st candidates share one second, so the page boundary cuts that second
    items = spread(300)
    items["c0100"] = items["c0099"]
    lst = NewestFirstList(items)
    output = read(lst, config)
    assert Counter(ids(output)) == Counter(set(items))
    second_page = lst.requests[1]
    assert "updated_at.gt" not in second_page and second_page["updated_at.lt"] == stamp(items["c0100"] + 1)


def test_more_than_a_page_in_one_second_is_read_by_cursor_with_one_warning(config):
    items = {f"s{i:03d}": 1000 for i in range(250)}
    items.update({f"o{i:03d}": 10 * i for i in range(50)})  # older ones
    lst = NewestFirstList(items)
    output = read(lst, config)
    assert Counter(ids(output)) == Counter(set(items))
    crowded = [w for w in warnings(output) if "share the updated_at second" in w]
    assert len(crowded) == 1 and stamp(1000) in crowded[0]


def test_a_page_out_of_newest_first_order_makes_the_read_follow_cursors_with_one_warning(config):
    items = spread(450)
    lst = NewestFirstList(items, order=lambda rows: sorted(rows, key=lambda r: r["id"]))  # oldest first
    output = read(lst, config)
    assert set(ids(output)) == set(items)
    assert len([w for w in warnings(output) if "not sorted newest-updated first" in w]) == 1
    assert any("cursor" in q for q in lst.requests[1:])


def test_a_full_refresh_also_has_a_candidate_updated_to_the_front_during_the_read(config):
    items = spread(450)
    oldest = min(items, key=items.get)  # not read yet when it changes: it moves ahead of the read position

    def touch(lst: NewestFirstList) -> None:
        lst.items[oldest] = int((dt.datetime.now(dt.timezone.utc) - T0).total_seconds())

    lst = NewestFirstList(items, changes={1: touch})
    output = read(lst, config)
    assert set(items) <= set(ids(output))
    assert "updated_at.gt" in lst.requests[-1], "a last pass for what changed during the read"


def test_an_incremental_read_drops_candidates_not_newer_than_the_state(config):
    items = spread(450)
    state_second = items["c0100"]
    lst = NewestFirstList(items)
    output = read(lst, config, SyncMode.incremental, state={"updated_at": stamp(state_second)})
    assert sorted(ids(output)) == sorted(k for k, s in items.items() if s > state_second)
    assert lst.requests[0]["updated_at.gt"] == stamp(state_second)
    # after the first request only .lt, except the last pass, which asks for what changed since the read began
    *middle, last = lst.requests[1:]
    assert middle and all("updated_at.gt" not in q for q in middle)
    assert 0 < dt.datetime.now(dt.timezone.utc).timestamp() - epoch(last["updated_at.gt"]) < 600


def test_a_read_of_one_page_costs_one_request(config):
    lst = NewestFirstList(spread(150))
    read(lst, config)
    assert len(lst.requests) == 1
