"""metadata.yaml is what Airbyte's registry and build tooling read: it must validate against Airbyte's own
schema (ConnectorMetadataDefinitionV0 from airbyte-connector-models) and agree with the Dockerfile,
pyproject.toml and the files it points to."""

from __future__ import annotations

import json
import re
import tomllib
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import (
    ConnectorMetadataDefinitionV0,
)

ROOT = Path(__file__).resolve().parents[1]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$")


def _discovered_streams(tmp_path: Path) -> list[dict]:
    """The connector's catalog. Discover reads the employee attribute list (issue 5), so it runs against
    a small sandbox; per-report streams depend on the account and are left out of the docs tables."""
    from airbyte_cdk.models import AirbyteMessageSerializer
    from airbyte_cdk.test import entrypoint_wrapper
    from personio_sandbox.testing import Sandbox

    from source_personio.run import create_source

    with Sandbox(employees=2, seed=1, rate_limits="off") as sandbox:
        config = sandbox.config(custom_report_streams=False)
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        output = entrypoint_wrapper.discover(create_source(["discover", "--config", str(path)]), config)
    assert not output.errors, output.get_formatted_error_message()
    return AirbyteMessageSerializer.dump(output.catalog)["catalog"]["streams"]


@pytest.fixture(scope="module")
def metadata() -> dict:
    return yaml.safe_load((ROOT / "metadata.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _dockerfile_arg_default(dockerfile: str, name: str) -> str:
    m = re.search(rf"^ARG {name}=(\S+)\s*$", dockerfile, re.M)
    assert m, f"Dockerfile has no `ARG {name}=<default>`"
    return m.group(1)


def test_metadata_validates_against_airbyte_model(metadata):
    model = ConnectorMetadataDefinitionV0.model_validate(metadata)
    assert model.data.connector_type.value == "source"
    assert model.data.connector_subtype.value == "api"


def test_metadata_validates_against_airbyte_json_schema(metadata):
    schema_file = resources.files("airbyte_connector_models") / "metadata/v0/ConnectorMetadataDefinitionV0.json"
    schema = json.loads(schema_file.read_text())
    # The shipped schema is stitched from several files: nested `$id`s make its root-relative `$ref`s
    # unresolvable, so drop them (their subschemas stay inline).
    def strip_ids(node, root=True):
        if isinstance(node, dict):
            return {k: strip_ids(v, False) for k, v in node.items() if root or k != "$id"}
        if isinstance(node, list):
            return [strip_ids(v, False) for v in node]
        return node

    schema = strip_ids(schema)
    # It also does not pass the draft-07 metaschema itself (a `type: ConnectorMetric` under
    # `generated`, a field only Airbyte's upload tooling writes), so validate without checking the schema.
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(metadata), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_metadata_identity_fields(metadata, pyproject):
    data = metadata["data"]
    assert data["name"] == "Personio"
    assert data["dockerRepository"] == "airbyte/source-personio"
    assert data["definitionId"] == "0fd47e57-fb4f-4178-b587-57d8c1d6c5a9", "definitionId must never change"
    assert SEMVER.match(data["dockerImageTag"])
    assert data["dockerImageTag"] == pyproject["project"]["version"]
    assert data["license"] == pyproject["project"]["license"]["text"]
    assert {"language:python", "cdk:low-code"} <= set(data["tags"])
    assert data["allowedHosts"]["hosts"] == ["api.personio.de"]
    assert data["releaseStage"] and data["supportLevel"]
    suites = {s["suite"] for s in data["connectorTestSuitesOptions"]}
    assert {"unitTests", "integrationTests", "acceptanceTests"} <= suites


def test_base_image_is_pinned_and_matches_dockerfile(metadata, dockerfile):
    base = metadata["data"]["connectorBuildOptions"]["baseImage"]
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", base)
    assert _dockerfile_arg_default(dockerfile, "BASE_IMAGE") == base


def test_dockerfile_labels_and_entrypoint_agree(metadata, dockerfile, pyproject):
    data = metadata["data"]
    assert re.search(rf'io\.airbyte\.version="{re.escape(data["dockerImageTag"])}"', dockerfile)
    assert re.search(rf'io\.airbyte\.name="{re.escape(data["dockerRepository"])}"', dockerfile)
    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])\s*$", dockerfile, re.M).group(1))
    airbyte_entry = re.search(r'AIRBYTE_ENTRYPOINT="([^"]+)"', dockerfile).group(1)
    assert " ".join(entry) == airbyte_entry
    assert entry[0] in pyproject["project"]["scripts"], "the entrypoint must be the connector's console script"
    assert re.search(r"^USER airbyte\s*$", dockerfile, re.M), "the image must run as the non-root user airbyte"
    assert "WORKDIR /airbyte/integration_code" in dockerfile


def test_dockerignore_sends_only_the_lock_and_the_package_source():
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "*", "everything is excluded first"
    assert {line for line in lines if line.startswith("!")} == {
        "!requirements-connector.lock", "!pyproject.toml", "!README.md", "!LICENSE*", "!source_personio",
    }


def test_icon_is_an_svg(metadata):
    root = ET.parse(ROOT / metadata["data"]["icon"]).getroot()
    assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg")
    assert root.get("viewBox")


def _doc_table(doc: str, header_start: str) -> dict[str, list[str]]:
    """Rows of the markdown table whose header starts with `header_start`, keyed by the first cell."""
    lines = doc[doc.index(header_start):].splitlines()
    rows = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def test_docs_cover_every_stream_the_connector_discovers(tmp_path):
    doc = (ROOT / "docs" / "personio.md").read_text()
    streams = _discovered_streams(tmp_path)
    table = _doc_table(doc, "| Stream                                     | Primary key")
    permissions = _doc_table(doc, "| Stream                                     | Personio endpoint")
    names = [s["name"] for s in streams]
    assert sorted(table) == sorted(names), "docs streams table != discovered streams"
    assert sorted(permissions) == sorted(names), "docs permissions table != discovered streams"
    for stream in streams:
        pk, modes, cursor = table[stream["name"]][:3]
        documented_pk = [p.strip().strip("`") for p in pk.split(",")]
        assert documented_pk == [".".join(p) for p in stream.get("source_defined_primary_key") or []], stream["name"]
        assert ("Incremental" in modes) == ("incremental" in stream["supported_sync_modes"]), stream["name"]
        assert cursor.strip("`") == ".".join(stream.get("default_cursor_field") or []), stream["name"]


def test_docs_describe_the_config_fields_and_changelog(metadata):
    doc = (ROOT / "docs" / "personio.md").read_text()
    assert doc.startswith("# Personio")
    for field in ("client_id", "client_secret", "start_date", "base_url", "app_id"):
        assert f"`{field}`" in doc
    assert "## Changelog" in doc
    # The changelog's newest entry is the version metadata.yaml ships.
    changelog = doc.split("## Changelog", 1)[1]
    first_version = re.search(r"^\|\s*(\d+\.\d+\.\d+)\s*\|", changelog, re.M)
    assert first_version and first_version.group(1) == metadata["data"]["dockerImageTag"]
