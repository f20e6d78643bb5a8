"""The manifest's layout rules (issue 15): thin named layers, each value written once, a reference link
above every stream block -- and what those layers must still resolve to (requester timeouts, the token of
the right API version, page sizes within Personio's documented limits)."""

from __future__ import annotations

import functools
import re
from typing import Any, Dict, Iterator, List

import pytest
import yaml
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString

from source_personio.source import MANIFEST_PATH, SourcePersonio

TEXT = MANIFEST_PATH.read_text()
RAW = yaml.safe_load(TEXT)
DEFINITIONS: Dict[str, Any] = RAW["definitions"]
CONFIG = {"client_id": "id", "client_secret": "secret", "base_url": "https://personio.example/", "custom_report_streams": False}


@functools.lru_cache(maxsize=1)
def resolved() -> Dict[str, Any]:
    return dict(SourcePersonio(config=CONFIG).resolved_manifest)


def components(node: Any) -> Iterator[Dict[str, Any]]:
    """Every mapping in a (resolved) manifest tree."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from components(value)
    elif isinstance(node, list):
        for value in node:
            yield from components(value)


def ref_target(node: Any) -> str:
    """The definition a raw node refers to (`$ref: "#/definitions/x"` or the string "#/definitions/x")."""
    ref = node.get("$ref", "") if isinstance(node, dict) else node if isinstance(node, str) else ""
    return ref[len("#/definitions/"):] if ref.startswith("#/definitions/") else ""


def resolved_type(name: str) -> str:
    node = DEFINITIONS[name]
    while isinstance(node, dict) and "type" not in node and ref_target(node):
        node = DEFINITIONS[ref_target(node)]
    return node.get("type", "") if isinstance(node, dict) else ""


def without_page_size(node: Any) -> Any:
    """A raw definition with its page size removed, $refs followed (to compare paginators)."""
    if isinstance(node, dict):
        merged = dict(without_page_size(DEFINITIONS[ref_target(node)])) if ref_target(node) else {}
        for key, value in node.items():
            if key == "$ref" or key == "page_size":
                continue
            if key == "$parameters":
                value = {k: v for k, v in value.items() if k != "page_size"}
                if not value:
                    continue
            merged[key] = without_page_size(value)
        return merged
    if isinstance(node, list):
        return [without_page_size(each) for each in node]
    return node


def test_the_v2_requester_is_the_v1_requester_with_another_api_version():
    assert set(DEFINITIONS["requester_v2"]) == {"$ref", "$parameters"}
    assert ref_target(DEFINITIONS["requester_v2"]) == "requester_v1"
    assert DEFINITIONS["requester_v2"]["$parameters"] == {"api_version": "v2"}
    assert [name for name in DEFINITIONS if resolved_type(name) == "HttpRequester"] == ["requester_v1", "requester_v2"]


def test_no_two_paginators_differ_only_in_page_size():
    paginators = [name for name in DEFINITIONS if resolved_type(name) == "DefaultPaginator"]
    assert len(paginators) >= 3
    shapes: List[Any] = []
    for name in paginators:
        shape = without_page_size(DEFINITIONS[name])
        assert shape not in shapes, f"{name} differs from another paginator only in its page size"
        shapes.append(shape)


def test_streams_set_a_page_size_beside_a_paginator_reference_never_a_copy_of_its_strategy():
    for name, definition in DEFINITIONS.items():
        for node in components(definition):
            paginator = node.get("paginator")
            if isinstance(paginator, dict) and resolved_type(name) == "DeclarativeStream":
                assert ref_target(paginator), f"{name}: a paginator written out instead of a named one"
                assert set(paginator) <= {"$ref", "$parameters"}, f"{name}: paginator overrides {set(paginator)}"


def test_the_start_date_expression_is_written_once():
    """Cursors refer to definitions.start_date; only a record filter (which cannot refer to a definition)
    spells the expression out again, to recognise a slice that starts there."""
    spelt = "config.get('start_date')"
    assert spelt in DEFINITIONS["start_date"]["datetime"]
    outside = [
        (name, node.get("type"))
        for name, definition in DEFINITIONS.items()
        if name != "start_date"
        for node in components(definition)
        if any(isinstance(value, str) and spelt in value for value in node.values())
    ]
    # (a record filter of the CDK's, or one of record_filters.py that applies the same condition)
    assert all(kind in ("RecordFilter", "CustomRecordFilter") for _, kind in outside), outside
    assert TEXT.count(spelt) == 1 + len(outside)
    for name, definition in DEFINITIONS.items():
        for node in components(definition):
            start = node.get("start_datetime")
            if isinstance(start, dict) and "start_date" in str(start.get("datetime", "")):
                pytest.fail(f"{name}: a cursor start written out instead of #/definitions/start_date")


def test_every_stream_block_has_a_link_to_personio_s_reference_above_it():
    lines = TEXT.splitlines()
    starts = {re.match(r"  (\w+):\s*$", line).group(1): i for i, line in enumerate(lines) if re.match(r"  (\w+):\s*$", line)}
    stream_blocks = [name for name, definition in DEFINITIONS.items() if isinstance(definition, dict) and "name" in definition]
    assert len(stream_blocks) >= 26
    for name in stream_blocks:
        above = lines[starts[name] - 1]
        assert re.match(r"\s*# https://developer\.personio\.de/reference/[a-z0-9_-]+", above), (name, above)


def test_the_manifest_check_is_only_the_schema_s_minimum_and_never_runs():
    assert SourcePersonio.check is not ConcurrentDeclarativeSource.check
    assert RAW["check"] == {"type": "CheckStream", "stream_names": ["employees"]}
    comment = TEXT[: TEXT.index("\ncheck:")].rsplit("\n\n", 1)[-1]
    assert "access_check.py" in comment


def test_every_requester_has_connect_and_read_timeouts():
    """Without a timeout the CDK (requests) waits forever on a server that stops answering."""
    requesters = [node for node in components(resolved()["streams"]) if node.get("type") == "HttpRequester"]
    assert len(requesters) >= 26
    for requester in requesters:
        assert 0 < requester["connect_timeout_in_seconds"] <= 60
        assert 0 < requester["read_timeout_in_seconds"] <= 300


def test_each_request_goes_to_its_api_version_with_that_version_s_token():
    versions = set()
    for requester in (node for node in components(resolved()["streams"]) if node.get("type") == "HttpRequester"):
        url = InterpolatedString.create(requester["url_base"], parameters=requester.get("$parameters", {})).eval(CONFIG)
        version = requester["authenticator"]["api_version"]
        assert url == f"https://personio.example/{version}", (requester.get("path"), url, version)
        versions.add(version)
    assert versions == {"v1", "v2"}


# Personio's documented page-size maxima (the API reference's endpoint tables: v1 employees "max limit 100"
# since 2025-01-31; v2 limits per endpoint), for the streams whose reference gives one.
PERSONIO_MAX_PAGE = {
    "employees": 100,
    "persons": 50,
    "employments": 50,
    "absence_periods": 100,
    "absence_period_breakdowns": 28,
    "attendances": 100,
    "legal_entities": 100,
    "compensation_types": 100,
    "recruiting_candidates": 200,
    "recruiting_jobs": 200,
}


def test_page_sizes_stay_within_personio_s_documented_limits():
    streams = {stream["name"]: stream for stream in resolved()["streams"]}
    for name, maximum in PERSONIO_MAX_PAGE.items():
        size = streams[name]["retriever"]["paginator"]["pagination_strategy"]["page_size"]
        assert 2 <= int(size) <= maximum, (name, size)
