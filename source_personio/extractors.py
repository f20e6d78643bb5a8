"""Record extractors: Personio's envelopes read straight from the body the error handler already parsed.

CDK default they replace: ``DpathExtractor`` (``dpath.get`` visits every node of a response even for a one-key
path) and ``requests``' ``Response.json()``, which the error handler, the paginator and the extractor each ran on
every page. :func:`parse_json_once` is the response hook (installed by the authenticator) that parses a body once
with orjson; the extractors read that object. Personio quirk for the custom-report extractors: a report's rows are
nested per employee and a cell's value sits in a field that depends on its ``data_type``.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping

import orjson
import requests

from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.types import Config

def parse_json_once(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """requests response hook: ``response.json()`` parses the body once (orjson) and then returns
    that same, read-only object.

    Every Personio response is read by the manifest's error-handler predicates (a body that is not
    JSON, v1 ``success: false``) and by the paginator before its records are extracted: with
    ``requests``' own ``json()`` that was three parses per page with the stdlib parser, ~13 % of
    a sync's CPU. A body orjson cannot read falls back to ``requests`` (same exceptions as before).
    """
    original = response.json
    cache: List[Any] = []

    def json(**kwargs: Any) -> Any:
        if kwargs:
            return original(**kwargs)
        if not cache:
            try:
                cache.append(orjson.loads(response.content))
            except (orjson.JSONDecodeError, TypeError):
                return original()
        return cache[0]

    response.json = json  # type: ignore[method-assign]
    return response


def response_json(response: requests.Response) -> Any:
    """``response.json()``: the body parsed once per response when :func:`parse_json_once` is hooked in."""
    return response.json()


@dataclass
class TopLevelRecordsExtractor(RecordExtractor):
    """The records under one top-level key of the body: ``data`` (v1) or ``_data`` (v2).

    Personio's list envelopes always hold the records directly under that key. The CDK's
    ``DpathExtractor`` resolves even a one-key path with ``dpath.get``, which visits every node of
    the response (every field of every record): ~12 % of a sync's CPU on 100-record attendance
    pages. The body is the one the error handler already parsed (:func:`parse_json_once`); each
    record is a shallow copy, so transformations may set or clear its keys while the paginator
    still reads the page as served (FlattenAttributes builds new nested objects, never edits them).
    A body that is not JSON, or has no list there, yields nothing (the error handler has already
    retried such a response).
    """

    field_name: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body = response_json(response)
        except ValueError:
            return
        extracted = body.get(self.field_name) if isinstance(body, dict) else None
        if isinstance(extracted, list):
            for record in extracted:
                yield dict(record) if isinstance(record, dict) else record
        elif isinstance(extracted, dict) and extracted:
            yield dict(extracted)


@dataclass
class CustomReportRowsExtractor(RecordExtractor):
    """One record per row of a Personio v1 custom report.

    ``GET /v1/company/custom-reports/reports/{id}`` answers with the report itself whose
    ``items`` hold, per employee, ``attributes`` (point-in-time / timeframe reports) or
    ``historical_attributes`` that each carry an ``effective_date`` (historical reports).
    Rows are keyed ``[report_id, employee_id, effective_date]``: historical cells are grouped
    into one row per employee and effective date; other reports get ``effective_date = ""``
    (one row per employee). Cells keep Personio's shape minus the hoisted keys. Rows and cells are
    new objects built from the body the error handler already parsed (:func:`parse_json_once`; a
    report page is large, parsing it again cost ~2 % of a sync's CPU); the body itself is not changed.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body = response_json(response)
        except ValueError:
            return
        for report in (body.get("data") if isinstance(body, dict) else None) or []:
            meta = report.get("attributes", report) if isinstance(report, dict) else {}
            report_id = meta.get("id")
            report_type = meta.get("type")
            for item in meta.get("items") or []:
                employee_id = item.get("employee_id")
                if "historical_attributes" in item:
                    by_date: Dict[str, List[Dict[str, Any]]] = {}
                    for cell in item.get("historical_attributes") or []:
                        date = cell.get("effective_date") or ""
                        by_date.setdefault(date, []).append(_cell(cell))
                    for date, cells in by_date.items():
                        yield _row(report_id, report_type, employee_id, date, cells)
                else:
                    yield _row(report_id, report_type, employee_id, "", [_cell(c) for c in item.get("attributes") or []])


def _cell(cell: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in cell.items() if k not in ("employee_id", "effective_date")}


def _row(report_id: Any, report_type: Any, employee_id: Any, date: str, cells: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {
        "report_id": report_id,
        "report_type": report_type,
        "employee_id": employee_id,
        "effective_date": date,
        "attributes": cells,
    }


@dataclass
class CustomReportColumnsExtractor(CustomReportRowsExtractor):
    """One wide record per row of a Personio custom report, for the report's own stream: one
    column per report attribute (keyed by ``attribute_id``) plus ``employee_id`` and
    ``effective_date`` (historical reports; ``""`` in others).

    Personio quirk: a report cell's value sits in a field that depends on its ``data_type`` --
    ``value`` for TEXT and ENTITY (the entity's name; its id is ``entity_id``), ``amount`` and
    ``currency_symbol`` for SALARY, ``cost_centers`` for COST_CENTER, ``duration`` ... -- so TEXT
    and ENTITY cells become their value and any other cell an object of its fields.
    """

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for row in super().extract_records(response):
            wide: Dict[str, Any] = {"employee_id": row["employee_id"], "effective_date": row["effective_date"]}
            for cell in row["attributes"]:
                key = cell.get("attribute_id")
                if not key:
                    continue
                if cell.get("data_type") in ("TEXT", "ENTITY"):
                    wide[key] = cell.get("value")
                else:
                    wide[key] = {k: v for k, v in cell.items() if k not in ("attribute_id", "data_type")}
            yield wide
