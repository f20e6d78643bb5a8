"""Report API v2 (``GET /v2/reports/{id}``): rows of positional cells turned into named, typed records.

Personio quirks (Report API v2, §10.1 of the reference; the shape is a third party's live observation):
* a row is a list of cells in the order of ``_meta.columns`` (``{name, display, type}``), each cell
  ``{attribute_id, string_value{value} | numeric_value{number} | options_value{options} |
  time_range_value{from, to}}``; ``display`` is localized, so fields are named by the column's ``name``;
* the ``next`` link is a plain string (not ``{href}`` as elsewhere in v2) and, with a cursor, Personio
  rejects every query parameter other than ``cursor`` and ``limit`` (HTTP 400) -- both handled by
  ``pagination.PersonioCursorPagination`` with ``max_cursor_repeats: 0``;
* grouped or chart reports answer HTTP 400 "Unsupported nested type: null" -- they cannot be read at all.

A TIME_RANGE column ``X`` becomes two fields ``X_from`` and ``X_to`` (flat, so a historical report's
``effective_date_from`` can be part of its primary key); OPTIONS become a list of strings, NUMERIC a number,
STRING a string; a cell of a kind not listed here stays an object of its fields.
"""

from __future__ import annotations

import logging
from dataclasses import InitVar, dataclass
from typing import Any, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple

import requests

from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config

from source_personio.error_handling import WrappingErrorHandler, personio_error_detail
from source_personio.extractors import response_json

LOGGER = logging.getLogger("airbyte")

# column type -> the field type the schema loader maps (manifest types_mapping) and how a cell is read
CELL_KINDS = {
    "STRING": "string_value",
    "NUMERIC": "numeric_value",
    "OPTIONS": "options_value",
    "TIME_RANGE": "time_range_value",
}
GROUPED_MARKER = "Unsupported nested type"


def fields_of_columns(columns: Iterable[Mapping[str, Any]]) -> List[Tuple[str, str]]:
    """``(field name, field type)`` per record field: a TIME_RANGE column gives ``<name>_from`` and
    ``<name>_to`` (type DATE); any other column its own name and type (UNKNOWN when not a known type)."""
    out: List[Tuple[str, str]] = []
    for column in columns:
        name, kind = str(column.get("name") or ""), str(column.get("type") or "")
        if not name:
            continue
        if kind == "TIME_RANGE":
            out += [(f"{name}_from", "DATE"), (f"{name}_to", "DATE")]
        else:
            out.append((name, kind if kind in CELL_KINDS else "UNKNOWN"))
    return out


def cell_fields(name: str, kind: str, cell: Any) -> Dict[str, Any]:
    """The record fields of one cell of column ``name`` (of column type ``kind``)."""
    if not isinstance(cell, Mapping):
        return {name: cell}
    if kind == "TIME_RANGE" or "time_range_value" in cell:
        value = cell.get("time_range_value") or {}
        return {f"{name}_from": value.get("from"), f"{name}_to": value.get("to")}
    if "string_value" in cell:
        return {name: (cell.get("string_value") or {}).get("value")}
    if "numeric_value" in cell:
        return {name: (cell.get("numeric_value") or {}).get("number")}
    if "options_value" in cell:
        options = (cell.get("options_value") or {}).get("options")
        return {name: list(options) if isinstance(options, list) else options}
    rest = {k: v for k, v in cell.items() if k != "attribute_id"}
    return {name: rest or None}


def is_grouped_answer(response: requests.Response) -> bool:
    """True for Personio's answer to a grouped or chart report: HTTP 400 "Unsupported nested type"."""
    return response.status_code == 400 and GROUPED_MARKER in personio_error_detail(response)


@dataclass
class ReportV2RowsExtractor(RecordExtractor):
    """One record per row of a v2 report, fields named by ``_meta.columns[i].name`` (the cell's own
    ``attribute_id`` wins when it names a column of the report, so a reordered row is still read right).

    A grouped/chart report's HTTP 400 never gets here (see :class:`GroupedReportErrorHandler`).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body = response_json(response)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        columns = [c for c in ((body.get("_meta") or {}).get("columns") or []) if isinstance(c, Mapping)]
        kinds = {str(c.get("name")): str(c.get("type") or "") for c in columns}
        for row in body.get("_data") or []:
            if not isinstance(row, list):
                continue
            record: Dict[str, Any] = {}
            for position, cell in enumerate(row):
                name = cell.get("attribute_id") if isinstance(cell, Mapping) else None
                if name not in kinds:
                    name = str(columns[position].get("name")) if position < len(columns) else f"column_{position + 1}"
                record.update(cell_fields(name, kinds.get(name, ""), cell))
            yield record


@dataclass
class ReportV2ColumnsExtractor(RecordExtractor):
    """For the per-report schema (a ``DynamicSchemaLoader``): one record ``{"fields": [{name, type}]}``
    from the report's ``_meta.columns`` (see :func:`fields_of_columns`). A report without columns (a
    grouped/chart report, whose 400 :class:`GroupedReportErrorHandler` ignores) yields nothing: its schema
    has no property and discover does not offer it."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body = response_json(response)
        except ValueError:
            return
        columns = ((body.get("_meta") or {}).get("columns") or []) if isinstance(body, dict) else []
        fields = fields_of_columns(c for c in columns if isinstance(c, Mapping))
        if fields:
            yield {"fields": [{"name": n, "type": t} for n, t in fields]}


@dataclass
class GroupedReportErrorHandler(WrappingErrorHandler):
    """``error_handler`` except for a grouped or chart report's HTTP 400 "Unsupported nested type": that
    response is ignored (no rows, no columns) and one warning says which stream is skipped and why.

    Personio quirk: the Report API v2 cannot serve grouped/chart reports, and nothing in ``GET /v2/reports``
    tells them apart. The CDK logs an ignored response at INFO only, and does not hand a non-2xx response
    to the extractor, so the warning is given here. ``when``: ``discover`` (the report's columns, the stream
    is not offered) or ``read`` (its rows, the stream is skipped).
    """

    when: str = "read"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = str((parameters or {}).get("name") or "report_v2")
        self._warned = False

    def answer(self, response_or_exception: Any) -> Optional[ErrorResolution]:
        if isinstance(response_or_exception, requests.Response) and is_grouped_answer(response_or_exception):
            what = "is not offered" if self.when == "discover" else "is skipped"
            message = (
                f"Skipped stream {self._stream}: the report {what} because Personio's Report API v2 answered HTTP 400"
                f"{personio_error_detail(response_or_exception)} -- grouped or chart reports cannot be read through "
                "the API. Remove the grouping/chart in Personio (or enable an ungrouped copy for API access)."
            )
            if not self._warned:
                self._warned = True
                LOGGER.warning(message)
            return ErrorResolution(response_action=ResponseAction.IGNORE)
        return None
