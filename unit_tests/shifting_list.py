"""A mocked Personio v1 list that changes while the connector pages through it.

Serves one list endpoint the way Personio pages it -- ``offset`` as a record offset (employees,
time-off-types), ``offset`` as a page number from 1 (time-offs) or ``page`` from 1 (custom report
items) -- from a Python list that scripted changes (deletes, inserts) edit right after the N-th list
request was answered, so the (N+1)-th request sees the list shifted. The list is re-evaluated per
request, exactly like ``items[start:start + limit]`` on a list that has changed.

Ground truth for a read: ``survivors()`` = ids present before the first request and after the last
one (and never deleted in between); ``ever()`` = every id that existed at some point.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set
from urllib.parse import parse_qs, urlsplit

import requests_mock

from personio_mocks import BASE

TOKEN = {"success": True, "data": {"token": "papi-v1-token", "expires_in": 86400}}


def employee(i: int) -> Dict[str, Any]:
    return {
        "type": "Employee",
        "attributes": {
            "id": {"label": "ID", "value": i, "type": "integer", "universal_id": "id"},
            "last_modified_at": {"label": "Last modified", "value": "2024-05-01T10:00:00+02:00", "type": "date", "universal_id": None},
        },
    }


def time_off(i: int) -> Dict[str, Any]:
    return {"type": "TimeOffPeriod", "attributes": {"id": i, "status": "approved", "updated_at": "2024-05-01T10:00:00+02:00"}}


def time_off_type(i: int) -> Dict[str, Any]:
    return {"type": "TimeOffType", "attributes": {"id": i, "name": f"type {i}", "category": "other", "unit": "day"}}


def report_item(i: int) -> Dict[str, Any]:
    return {"employee_id": i, "attributes": [{"attribute_id": "first_name", "data_type": "TEXT", "value": f"name {i}"}]}


@dataclass
class ShiftingList:
    """``kind``: ``record`` (offset = record offset), ``page`` (offset = page number) or ``report`` (page)."""

    path: str
    kind: str
    ids: List[int]
    render: Callable[[int], Dict[str, Any]]
    max_limit: Optional[int] = None
    total_elements: bool = True
    changes: Dict[int, List[Callable[["ShiftingList"], None]]] = field(default_factory=dict)
    requests: List[Dict[str, int]] = field(default_factory=list)
    serve: Optional[Callable[["ShiftingList", int, int], List[int]]] = None  # override: (start, limit) -> ids
    _ever: Set[int] = field(default_factory=set)
    _initial: Set[int] = field(default_factory=set)
    _deleted: Set[int] = field(default_factory=set)
    _next_id: int = 0

    def __post_init__(self) -> None:
        self._ever = set(self.ids)
        self._initial = set(self.ids)
        self._next_id = max(self.ids, default=0) + 1000

    # ---- scripted changes, fired right after the N-th list request was answered
    def after(self, n: int, change: Callable[["ShiftingList"], None]) -> "ShiftingList":
        self.changes.setdefault(n, []).append(change)
        return self

    def delete(self, *ids: int) -> None:
        for i in ids:
            self.ids.remove(i)
            self._deleted.add(i)

    def insert(self, position: int, count: int = 1) -> List[int]:
        new = list(range(self._next_id, self._next_id + count))
        self._next_id += count
        self.ids[position:position] = new
        self._ever.update(new)
        return new

    # ---- ground truth
    def survivors(self) -> Set[int]:
        return (self._initial & set(self.ids)) - self._deleted

    def ever(self) -> Set[int]:
        return set(self._ever)

    # ---- serving
    def _answer(self, request: Any, context: Any) -> str:
        query = {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}
        limit = int(query.get("limit", 50))
        if self.max_limit is not None and limit > self.max_limit:
            context.status_code = 400
            return json.dumps({"success": False, "error": {"code": 400, "message": "limit too large"}})
        if self.kind == "record":
            start = int(query.get("offset", 0))
            page = start // limit
        else:
            page = max(int(query.get("page" if self.kind == "report" else "offset", 1)), 1)
            start = (page - 1) * limit
        self.requests.append({"start": start, "limit": limit, "page": page})
        served = self.serve(self, start, limit) if self.serve else self.ids[start:start + limit]
        items = [self.render(i) for i in served]
        total = len(self.ids)
        body: Dict[str, Any] = {"success": True, "offset": start, "limit": limit}
        if self.kind == "report":
            body["data"] = [{"type": "Report", "attributes": {"id": "rep-1", "name": "Report", "type": "point_in_time", "items": items}}]
        else:
            body["data"] = items
        if self.total_elements:
            body["metadata"] = {"total_elements": total, "current_page": page, "total_pages": -(-total // limit)}
        for change in self.changes.pop(len(self.requests), []):
            change(self)
        context.status_code = 200
        return json.dumps(body)

    def mount(self, mocker: requests_mock.Mocker) -> None:
        mocker.get(re.compile(re.escape(f"{BASE}/v1{self.path}") + r"(\?.*)?$"), text=self._answer)


def mock_v1_basics(mocker: requests_mock.Mocker) -> None:
    """Token, the employees attribute list (the employees schema) and the custom report list."""
    mocker.post(f"{BASE}/v1/auth", json=TOKEN)
    attributes = [{"key": k, "label": k, "type": t, "universal_id": None, "options": []} for k, t in (("id", "integer"), ("last_modified_at", "date"))]
    mocker.get(f"{BASE}/v1/company/employees/attributes", json={"success": True, "data": attributes})
    reports = {"success": True, "data": [{"type": "Report", "attributes": {"id": "rep-1", "name": "Report", "type": "point_in_time"}}]}
    mocker.get(re.compile(re.escape(f"{BASE}/v1/company/custom-reports/reports") + r"(\?.*)?$"), json=reports)

