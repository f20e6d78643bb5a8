"""acceptance-test-config.yml, the spec and docs/personio.md pass the checks of Airbyte's Connector
Acceptance Tests (CAT 3.9.x) that run without Docker, as CAT states them in its source:

* the config model (keys each section's entries may have) and the rules of ``test_strictness_level: high``
  (every suite configured, the discovered catalog in ``basic_read``, expected records for every stream,
  a future state for every incremental stream, bypass reasons);
* ``TestSpec.test_secret_is_properly_marked`` (a field whose name is on CAT's list of secret names must be
  ``airbyte_secret``) and the other spec checks that need no running image;
* ``TestConnectorDocumentation``: the headings of Airbyte's connector-docs template in order, the standard
  opening lines under the template's headings, credentials named under Prerequisites;
* ``TestConnectorAttributes``: primary keys, allowed hosts, suggested streams.

CAT itself is not installable here (not on PyPI) and needs Docker; these are its rules restated.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Tuple

import jsonschema
import pytest
import yaml
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())
TESTS = CONFIG["acceptance_tests"]
METADATA = yaml.safe_load((ROOT / "metadata.yaml").read_text())["data"]
CONNECTOR_NAME = METADATA["name"]
DOCS_PATH = ROOT / "docs" / "personio.md"
DOCS = DOCS_PATH.read_text()

# CAT's config model: the keys an entry of each section may have (pydantic, extra keys forbidden).
SECTION_KEYS = {
    "spec": {"spec_path", "config_path", "timeout_seconds", "deployment_mode", "backward_compatibility_tests_config", "auth_default_method"},
    "connection": {"config_path", "status", "timeout_seconds", "deployment_mode"},
    "discovery": {"config_path", "timeout_seconds", "deployment_mode", "backward_compatibility_tests_config", "validate_primary_keys_data_type"},
    "basic_read": {
        "config_path", "deployment_mode", "configured_catalog_path", "empty_streams", "expect_records", "validate_schema",
        "validate_stream_statuses", "validate_state_messages", "validate_primary_keys_data_type", "fail_on_extra_columns",
        "validate_data_points", "expect_trace_message_on_failure", "timeout_seconds", "file_types", "client_container_config",
    },
    "full_refresh": {"config_path", "configured_catalog_path", "timeout_seconds", "deployment_mode", "ignored_fields", "client_container_config"},
    "incremental": {
        "config_path", "configured_catalog_path", "future_state", "timeout_seconds", "deployment_mode",
        "skip_comprehensive_incremental_tests", "client_container_config",
    },
    "connector_attributes": {"timeout_seconds", "config_path", "streams_without_primary_key", "allowed_hosts", "suggested_streams"},
    "connector_documentation": {"timeout_seconds", "config_path"},
}
# The suites whose tests fail, at the high level, when their section is missing.
MANDATORY_AT_HIGH = ("spec", "connection", "discovery", "basic_read", "full_refresh", "incremental")
SEMVER = re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*)(\.(0|[1-9]\d*))?)?$")

# TestSpec.test_secret_is_properly_marked: field names CAT takes for secrets (compared lower-cased, whole name).
CAT_SECRET_NAMES = (
    "client_token", "access_token", "api_token", "token", "secret", "client_secret", "password", "key",
    "service_account_info", "service_account", "tenant_id", "certificate", "jwt", "credentials", "app_id",
    "appid", "refresh_token",
)
SCHEMA_KEYWORDS = ("anyOf", "oneOf", "allOf", "not", "properties", "items", "type", "prefixItems")


def _entries(section: str) -> List[Dict[str, Any]]:
    return (TESTS.get(section) or {}).get("tests") or []


@pytest.fixture(scope="module")
def spec() -> Mapping[str, Any]:
    from source_personio.source import SourcePersonio

    return SourcePersonio().spec(logger=None).connectionSpecification  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def discovered() -> List[Dict[str, Any]]:
    """The catalog CAT's basic_read and incremental tests use: discover with the config they name,
    against the sandbox that config describes (seed 1, 40 employees)."""
    from airbyte_cdk.models import AirbyteMessageSerializer
    from airbyte_cdk.test import entrypoint_wrapper
    from personio_sandbox.testing import Sandbox

    from source_personio.auth import clear_token_cache
    from source_personio.source import SourcePersonio

    with Sandbox(employees=40, seed=1, rate_limits="off") as sandbox:
        config = {**json.loads((ROOT / _entries("basic_read")[0]["config_path"]).read_text()), "base_url": sandbox.url}
        clear_token_cache()
        output = entrypoint_wrapper.discover(SourcePersonio(config=config), config)
    assert not output.errors, output.get_formatted_error_message()
    return AirbyteMessageSerializer.dump(output.catalog)["catalog"]["streams"]


# ------------------------------------------------------------------ config model and strictness


def test_the_config_asks_for_the_high_strictness_level():
    assert CONFIG["test_strictness_level"] == "high"
    assert CONFIG["connector_image"] == f"{METADATA['dockerRepository']}:dev"


@pytest.mark.parametrize("section", sorted(SECTION_KEYS))
def test_every_suite_is_configured_with_keys_cat_knows(section):
    entries = _entries(section)
    assert entries, f"{section} has no tests: at the high level CAT fails (or, for optional suites, skips) it"
    for entry in entries:
        unknown = set(entry) - SECTION_KEYS[section]
        assert not unknown, f"{section}: CAT's config model refuses {sorted(unknown)}"
        assert (ROOT / entry["config_path"]).is_file()
    assert set(TESTS) <= set(SECTION_KEYS)


def test_mandatory_suites_at_high_are_all_there():
    assert all(_entries(section) for section in MANDATORY_AT_HIGH)


def test_basic_read_reads_the_discovered_catalog():
    for entry in _entries("basic_read"):
        # "you can't set a custom configured catalog on the basic read test when strictness level is high"
        assert "configured_catalog_path" not in entry
        assert entry.get("validate_schema", True) is True
        assert all(s.get("bypass_reason") for s in entry.get("empty_streams") or [])
        expect = entry["expect_records"]
        assert expect.get("path") and not expect.get("bypass_reason")
        assert expect.get("exact_order", False) is False


def test_expected_records_cover_every_discovered_stream(discovered):
    for entry in _entries("basic_read"):
        lines = [json.loads(line) for line in (ROOT / entry["expect_records"]["path"]).read_text().splitlines() if line]
        assert all(set(line) == {"stream", "data", "emitted_at"} for line in lines)
        seeded = {line["stream"] for line in lines}
        empty = {s["name"] for s in entry.get("empty_streams") or []}
        assert {s["name"] for s in discovered} - empty - seeded == set()
        assert seeded <= {s["name"] for s in discovered}
        # CAT compares records of a stream with a primary key by primary key: every expected one has it
        keys = {s["name"]: s.get("source_defined_primary_key") or [] for s in discovered}
        for line in lines:
            for path in keys[line["stream"]]:
                assert path[0] in line["data"], (line["stream"], path)


def test_the_expected_records_file_is_what_the_sandbox_gives():
    """Written by scripts/expected_records.py, not by hand: regenerating it changes nothing."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "expected_records.py"), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_future_state_covers_every_incremental_stream(discovered):
    incremental = {s["name"] for s in discovered if "incremental" in s["supported_sync_modes"]}
    assert len(incremental) >= 11
    for entry in _entries("incremental"):
        assert "configured_catalog_path" not in entry, "every incremental stream of the discovered catalog"
        future = entry["future_state"]
        assert not future.get("bypass_reason")
        assert all(s.get("bypass_reason") for s in future.get("missing_streams") or [])
        states = json.loads((ROOT / future["future_state_path"]).read_text())
        named = {s["stream"]["stream_descriptor"]["name"] for s in states}
        missing = {s["name"] for s in future.get("missing_streams") or []}
        assert incremental - missing - named == set()
        assert all(s["type"] == "STREAM" for s in states)


def test_full_refresh_ignored_fields_have_bypass_reasons():
    for entry in _entries("full_refresh"):
        for fields in (entry.get("ignored_fields") or {}).values():
            assert all(f.get("bypass_reason") for f in fields)


def test_backward_compatibility_bypass_names_a_version():
    for section in ("spec", "discovery"):
        for entry in _entries(section):
            bc = entry.get("backward_compatibility_tests_config") or {}
            for key in ("previous_connector_version", "disable_for_version"):
                if key in bc and bc[key] != "latest":
                    assert isinstance(bc[key], str) and SEMVER.match(bc[key]), (section, key, bc[key])


def test_connection_entries_declare_their_expected_status():
    assert {e["status"] for e in _entries("connection")} == {"succeed", "failed"}


# ------------------------------------------------------------------ spec


def _spec_type_paths(node: Any, path: Tuple[str, ...] = ()) -> Iterator[Tuple[str, ...]]:
    """Every path to a `type` key (dpath's **/type over the spec's properties)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "type":
                yield path + (key,)
            yield from _spec_type_paths(value, path + (str(key),))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _spec_type_paths(value, path + (str(i),))


def _field_name(type_path: Tuple[str, ...]) -> str | None:
    for part in reversed(type_path[:-1]):
        if part.isdigit() or part in SCHEMA_KEYWORDS:
            continue
        return part
    return None


def _get(node: Any, path: Tuple[str, ...]) -> Any:
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_no_field_cat_takes_for_a_secret_is_unmarked(spec):
    exposed, hidden = [], []
    properties = spec["properties"]
    for type_path in _spec_type_paths(properties):
        name = _field_name(type_path)
        if not name or name.lower() not in CAT_SECRET_NAMES:
            continue
        prop = _get(properties, type_path[:-1])
        types = {prop["type"]} if isinstance(prop["type"], str) else set(prop["type"])
        can_hold_a_secret = bool(types & {"string", "integer", "number"}) and not prop.get("const")
        if prop.get("airbyte_secret") and not can_hold_a_secret:
            hidden.append(name)
        if not prop.get("airbyte_secret") and can_hold_a_secret:
            exposed.append(name)
    assert not exposed and not hidden, (exposed, hidden)
    assert "app_id" not in properties and properties["client_secret"].get("airbyte_secret") is True


def test_the_heuristic_would_have_caught_app_id():
    """The rule above is CAT's, not a formality: the field this project used to have is on its list."""
    assert _field_name(("app_id", "type")) == "app_id" and "app_id" in CAT_SECRET_NAMES


def test_spec_keeps_cats_shape_rules(spec):
    assert spec.get("additionalProperties", True) is True
    orders = [p["order"] for p in spec["properties"].values() if "order" in p]
    assert len(orders) == len(set(orders)), "duplicate order"
    for name, prop in spec["properties"].items():
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert len(types) == 1 or (len(types) == 2 and types[1] == "null"), name
    keys = set(_schema_keys(spec))
    assert not keys & {"$ref", "anyOf", "allOf", "not", "patternProperties", "prefixItems", "if", "then", "else",
                       "dependentSchemas", "dependentRequired"}


def _schema_keys(node: Any, under_properties: bool = False) -> Iterator[str]:
    """Every keyword of a JSON schema (the names of properties themselves are not keywords)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not under_properties:
                yield key
            yield from _schema_keys(value, under_properties=(key == "properties" and not under_properties))
    elif isinstance(node, list):
        for value in node:
            yield from _schema_keys(value)


@pytest.mark.parametrize("section", ["spec", "connection", "basic_read", "incremental", "full_refresh"])
def test_every_config_cat_runs_matches_the_spec(spec, section):
    for entry in _entries(section):
        config = json.loads((ROOT / entry["config_path"]).read_text())
        jsonschema.validate({k: v for k, v in config.items() if not k.startswith("_")}, spec)


def test_documentation_url_is_this_projects_docs_everywhere(spec):
    from source_personio.source import SourcePersonio

    url = SourcePersonio().spec(logger=None).documentationUrl  # type: ignore[arg-type]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert url == METADATA["documentationUrl"] == pyproject["project"]["urls"]["Documentation"]
    assert url.startswith(pyproject["project"]["urls"]["Homepage"] + "/")
    assert url.endswith("/docs/personio.md") and "airbytehq/airbyte" not in url


def test_pyairbyte_finds_the_distribution_under_the_name_metadata_gives():
    """PyAirbyte looks a connector's version up under metadata's PyPI package name, else airbyte-<name>."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    name = pyproject["project"]["name"]
    assert name == METADATA["remoteRegistries"]["pypi"]["packageName"] == "airbyte-" + METADATA["dockerRepository"].split("/")[1]
    assert "source-personio" in pyproject["project"]["scripts"]


# ------------------------------------------------------------------ docs


def _headings(markdown: str) -> List[Tuple[str, int]]:
    """(first inline text of every heading, the line after it), as CAT's docs utils read them."""
    node = SyntaxTreeNode(MarkdownIt("commonmark").parse(markdown))
    return [(n.to_tokens()[1].children[0].content, n.map[1]) for n in node if n.type == "heading"]


def _without_sub_steps(names: List[str]) -> List[str]:
    """CAT drops 'Step 1.1:'-style headings that follow a 'Step 1:'/'Step 2:' heading, then the 'Step N: ' prefixes."""
    out: List[str] = []
    in_steps = False
    for name in names:
        if re.match(r"Step [12]: ", name):
            in_steps = True
            out.append(name)
        elif in_steps and re.match(r"Step \d+.?\d*: ", name):
            continue
        else:
            in_steps = False
            out.append(name)
    return [re.sub(r"^Step [12]: ", "", n) for n in out]


SPECIFIC = object()  # where connector-specific headings may stand
TEMPLATE = (
    CONNECTOR_NAME, "Prerequisites", "Setup guide", f"Set up {CONNECTOR_NAME}", "For Airbyte Cloud:",
    "For Airbyte Open Source:", f"Set up the {CONNECTOR_NAME} connector in Airbyte", "For Airbyte Cloud:",
    "For Airbyte Open Source:", "Supported sync modes", "Supported Streams", SPECIFIC, "Performance considerations",
    "Data type map", "Troubleshooting", "Tutorials", "Changelog",
)
OPTIONAL = {
    f"Set up the {CONNECTOR_NAME} connector in Airbyte", "For Airbyte Cloud:", "For Airbyte Open Source:", SPECIFIC,
    "Performance considerations", "Data type map", "Troubleshooting", "Tutorials",
}


def test_docs_headings_follow_airbytes_template_in_order():
    names = _without_sub_steps([name for name, _ in _headings(DOCS)])
    i = t = 0
    while i < len(names) and t < len(TEMPLATE):
        expected = TEMPLATE[t]
        if expected is SPECIFIC:
            if names[i] not in TEMPLATE:
                i += 1
            else:
                t += 1
            continue
        if names[i] == expected:
            i, t = i + 1, t + 1
        elif expected in OPTIONAL:
            t += 1
        else:
            pytest.fail(f"heading {names[i]!r} where the template expects {expected!r}")
    assert t == len(TEMPLATE), f"missing headings: {[h for h in TEMPLATE[t:] if h is not SPECIFIC]}"
    assert i == len(names), f"headings after the template's end: {names[i:]}"


def _lines_after(heading: str) -> List[str]:
    line = dict(_headings(DOCS))[heading]
    return DOCS.splitlines(keepends=True)[line:]


def _links_as_placeholder(line: str) -> str:
    return re.sub(r"https?://[^\s)]+", "{docs_link}", line)


def test_docs_open_with_the_templates_lines():
    """test_docs_descriptions: the lines under the template's headings start as the template says."""
    opening = [_links_as_placeholder(line) for line in _lines_after(CONNECTOR_NAME)[:6]]
    assert opening == [
        "\n", "<HideInUI>\n", "\n",
        f"This page contains the setup guide and reference information for the [{CONNECTOR_NAME}]({{docs_link}}) source connector.\n",
        "\n", "</HideInUI>\n",
    ]
    assert _lines_after("Supported sync modes")[:2] == [
        "\n",
        f"The {CONNECTOR_NAME} source connector supports the following "
        "[sync modes](https://docs.airbyte.com/cloud/core-concepts/#connection-sync-modes):\n",
    ]
    assert _lines_after("For Airbyte Open Source:")[:2] == ["\n", "1. Navigate to the Airbyte Open Source dashboard.\n"]
    assert "For Airbyte Cloud:" not in dict(_headings(DOCS)), "Airbyte Cloud does not accept custom Docker connectors"


def test_docs_prerequisites_name_the_credentials(spec):
    names = [name for name, _ in _headings(DOCS)]
    start = dict(_headings(DOCS))["Prerequisites"]
    end = dict(_headings(DOCS))[names[names.index("Prerequisites") + 1]]
    prerequisites = "".join(DOCS.splitlines(keepends=True)[start:end]).lower()
    required = [spec["properties"][f]["title"].lower() for f in spec["required"] if f not in ("client_id", "client_secret", "credentials")]
    assert all(title in prerequisites for title in required)
    assert any(word in prerequisites for word in ("account", "auth", "credentials", "access"))


def test_docs_say_where_the_connector_runs():
    section = DOCS[DOCS.index("## Where the connector runs"):DOCS.index("## Rate limits")]
    for place in ("Airbyte Self-Managed", "PyAirbyte", "Docker", "Airbyte Cloud"):
        assert place in section
    assert "airbyte-source-personio" in section and "pip_url" in section
    assert re.search(r"Airbyte Cloud\s*\|[^|]*\|\s*No", section), "Cloud is listed as not supported"


# ------------------------------------------------------------------ connector attributes


def test_every_stream_has_a_primary_key_and_metadata_names_hosts_and_suggested_streams(discovered):
    without = {s["name"] for e in _entries("connector_attributes") for s in e.get("streams_without_primary_key") or []}
    assert [s["name"] for s in discovered if not s.get("source_defined_primary_key")] == sorted(without)
    assert METADATA["allowedHosts"]["hosts"]
    assert set(METADATA["suggestedStreams"]["streams"]) <= {s["name"] for s in discovered}
