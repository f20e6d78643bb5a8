"""The employees schema is discovered from Personio's attribute list: one column per attribute key (never the
label), a currency column beside each salary attribute, every employee record valid against it, tags as the
same lists the v2 person shows."""

from __future__ import annotations

import os
import tempfile

import jsonschema
import pytest

from airbyte_cdk.test.entrypoint_wrapper import discover
from personio_sandbox.testing import Sandbox

from sandbox_helpers import personio_get, records_by_stream, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio


@pytest.fixture(scope="module")
def sb():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-schemas-{os.getpid()}.log")
    with Sandbox(employees=15, seed=5, rate_limits="off", log_path=log_path) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def cfg(sb):
    return sb.config(retry_backoff_seconds=0.2, start_date="2024-01-01")


def test_employees_match_the_schema_discovered_from_the_attribute_list(sb, cfg):
    clear_token_cache()
    schema = next(s for s in discover(SourcePersonio(config=cfg), cfg).catalog.catalog.streams if s.name == "employees").json_schema
    attributes = personio_get(sb, "/v1/company/employees/attributes")
    # one column per attribute, by key; labels never become columns
    # (plus <key>_currency beside each salary attribute, whose values carry a currency, §10.5)
    salaries = {a["key"] + "_currency" for a in attributes if a["key"] in ("fix_salary", "hourly_salary")}
    assert set(schema["properties"]) == {a["key"] for a in attributes} | salaries
    assert not {a["label"] for a in attributes if a["label"] != a["key"]} & set(schema["properties"])
    clear_token_cache()
    output = run_read(cfg, ["employees"])
    assert not output.errors
    employees = records_by_stream(output)["employees"]
    validator = jsonschema.Draft7Validator(schema)
    for record in employees:
        errors = list(validator.iter_errors(record))
        assert not errors, f"employee {record['id']}: {errors[0].message}"
    # tags are lists, the same ones the v2 person shows
    tags_key = next(a["key"] for a in attributes if a["type"] == "tags")
    v2_tags = {
        int(p["id"]): next(c["value"] for c in p["custom_attributes"] if c["id"] == tags_key) for p in sb.dataset("/v2/persons")
    }
    assert {r["id"]: r.get(tags_key) for r in employees} == v2_tags
