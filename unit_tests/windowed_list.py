"""A mocked Personio v2 list with the ``updated_at`` filters its endpoint documents, paged by offset cursors
into the current list (the less convenient reading of Personio's opaque cursors), for the tests of lists read
in updated_at windows (test_time_windows.py, test_record_filters.py). Ground truth is the list itself."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

import requests_mock

from personio_mocks import BASE, read_stream, record_data

V2_TOKEN = {"access_token": "papi-v2-token", "token_type": "Bearer", "expires_in": 86400, "scope": "personio:attendances:read"}


def stamp(seconds: int) -> str:
    return (dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


class V2List:
    """A v2 list with the endpoint's documented filters, paged by offset cursors into the current list.
    ``after_request(n, list)`` edits it right after the n-th response; ``sort=updated_at`` is honoured."""

    def __init__(self, path: str, records: List[Dict[str, Any]], max_limit: int, ops: tuple, naive: bool,
                 after_request: Optional[Callable[[int, "V2List"], None]] = None) -> None:
        self.path, self.records, self.max_limit, self.ops, self.naive = path, records, max_limit, ops, naive
        self.after_request = after_request
        self.requests: List[Dict[str, str]] = []
        self.with_next = 0

    def ids(self) -> set:
        return {r["id"] for r in self.records}

    def _parse(self, value: str) -> dt.datetime:
        if self.naive:
            assert not value.endswith("Z") and "+" not in value, f"{self.path} takes naive timestamps: {value}"
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.timezone.utc)
        assert value.endswith("Z"), value
        return dt.datetime.fromisoformat(value[:-1] + "+00:00")

    def respond(self, request, context):
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        self.requests.append(query)
        unknown = {k for k in query if k.startswith("updated_at")} - {"updated_at." + op for op in self.ops}
        if unknown:
            context.status_code = 400
            return {"errors": [{"detail": f"unknown filter {sorted(unknown)}"}]}
        items = list(self.records)
        for op in self.ops:
            value = query.get("updated_at." + op)
            if value is None:
                continue
            bound = self._parse(value)
            test = {"gt": lambda t: t > bound, "gte": lambda t: t >= bound, "lt": lambda t: t < bound, "lte": lambda t: t <= bound}[op]
            items = [r for r in items if test(dt.datetime.fromisoformat(r["updated_at"][:-1] + "+00:00"))]
        if query.get("sort") == "updated_at":
            items.sort(key=lambda r: r["updated_at"])
        limit = min(int(query.get("limit") or self.max_limit), self.max_limit)
        offset = int(query["cursor"][4:]) if query.get("cursor") else 0
        page = items[offset : offset + limit]
        links: Dict[str, Any] = {"self": {"href": BASE + self.path}}
        if offset + limit < len(items):
            links["next"] = {"href": f"{BASE}{self.path}?cursor=cur_{offset + limit}"}
            self.with_next += 1
        body = {"_data": [dict(r) for r in page], "_meta": {"links": links}}
        if self.after_request:
            self.after_request(len(self.requests), self)
        return body


def attendance_list(records, **kwargs) -> V2List:
    return V2List("/v2/attendance-periods", records, 100, ("gte", "lte"), True, **kwargs)


def absence_period_list(records, **kwargs) -> V2List:
    return V2List("/v2/absence-periods", records, 100, ("gte", "lte"), True, **kwargs)


def person_list(records, **kwargs) -> V2List:
    return V2List("/v2/persons", records, 50, ("gt", "lt"), False, **kwargs)


def records_at(seconds: List[int], prefix: str = "r") -> List[Dict[str, Any]]:
    return [{"id": f"{prefix}{i:05d}", "updated_at": stamp(s), "person": {"id": str(i % 7)}} for i, s in enumerate(seconds)]


def read(stream: str, lst: V2List, config: Dict[str, Any]):
    """The ids the stream emits (in order) and the read's output."""
    with requests_mock.Mocker() as mocker:
        mocker.post(f"{BASE}/v2/auth/token", json=V2_TOKEN)
        mocker.get(re.compile(re.escape(BASE + lst.path) + r"(\?.*)?$"), json=lst.respond)
        output = read_stream(stream, config)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return [r["id"] for r in record_data(output)], output
