"""airbyte-cdk's standard source tests, in-process, against the session's sandbox.

The scenarios come from acceptance-test-config.yml. Two adaptations, both explicit:
* the configs name the sandbox at http://127.0.0.1:8080 (for CAT); here ``base_url`` is pointed
  at the sandbox this test session started (the scenario config dicts are filled in by a fixture
  before any test runs);
* keys only Airbyte's CAT reads (``expect_records`` ...) are refused by the standard tests, so
  they are dropped from the entries, and ``test_expected_records_are_read`` below runs the
  ``expect_records`` check itself.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from boltons.typeutils import classproperty

from airbyte_cdk.models import ConfiguredAirbyteCatalog
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import discover, read
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.models.scenario import REMOVED_ENTRY_KEYS
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401  (parametrizes `scenario`)
from airbyte_cdk.test.standard_tests.source_base import SourceTestSuiteBase

from sandbox_helpers import without_nulls
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_PLACEHOLDER = "http://127.0.0.1:8080"
_LIVE_CONFIGS: List[Dict[str, Any]] = []


def _expect_records_entries() -> List[Dict[str, Any]]:
    config = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())
    return [t for t in config["acceptance_tests"]["basic_read"]["tests"] if "expect_records" in t]


@pytest.fixture(scope="module", autouse=True)
def _configs_point_at_the_session_sandbox(sandbox):
    for config in _LIVE_CONFIGS:
        if config.get("base_url") in (SANDBOX_PLACEHOLDER, sandbox.url):
            config["base_url"] = sandbox.url
            config["retry_backoff_seconds"] = 0.2
    clear_token_cache()
    yield


class TestPersonioStandardSuite(SourceTestSuiteBase):
    @classproperty
    def acceptance_test_config(cls) -> Any:
        config = copy.deepcopy(yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text()))
        for section in config["acceptance_tests"].values():
            for entry in section.get("tests") or []:
                for key in REMOVED_ENTRY_KEYS:
                    entry.pop(key, None)
        return config

    @classmethod
    def get_scenarios(cls) -> List[ConnectorTestScenario]:
        scenarios = []
        for scenario in super().get_scenarios():
            config = scenario.get_config_dict(connector_root=ROOT, empty_if_missing=True)
            _LIVE_CONFIGS.append(config)
            scenarios.append(scenario.model_copy(update={"config_dict": config}))
        return scenarios

    # The image tests build and run the Docker image; the container is covered by
    # integration_tests/test_container*.py, so this in-process suite leaves them out.
    test_docker_image_build_and_spec = None
    test_docker_image_spec_backward_compatibility = None
    test_docker_image_build_and_check = None
    test_docker_image_build_and_config_matches_spec = None
    test_docker_image_build_and_discover = None
    test_docker_image_build_and_read = None

    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> SourcePersonio:
        config = scenario.get_config_dict(connector_root=ROOT, empty_if_missing=True) if scenario else {}
        return SourcePersonio(config=config)


def test_expected_records_are_read(sandbox):
    """The `expect_records` check of acceptance-test-config.yml: every expected record is read, equal."""
    entries = _expect_records_entries()
    assert entries
    for entry in entries:
        config = {**json.loads((ROOT / entry["config_path"]).read_text()), "base_url": sandbox.url, "retry_backoff_seconds": 0.2}
        expected = [json.loads(line) for line in (ROOT / entry["expect_records"]["path"]).read_text().splitlines() if line]
        # CAT's high strictness level reads the whole discovered catalog (no configured_catalog_path)
        assert "configured_catalog_path" not in entry
        clear_token_cache()
        discovered = discover(SourcePersonio(config=config), config).catalog.catalog
        builder = CatalogBuilder()
        for stream in discovered.streams:
            builder.with_stream(stream.name, SyncMode.full_refresh)
        catalog: ConfiguredAirbyteCatalog = builder.build()
        clear_token_cache()
        output = read(SourcePersonio(catalog=catalog, config=config), config, catalog)
        assert not output.errors, [e.trace.error.message for e in output.errors]
        # every discovered stream has expected records, and every expected record is read, equal
        assert {e["stream"] for e in expected} == {s.name for s in discovered.streams}
        # v2 records link to the server that served them: the session sandbox, where CAT's is SANDBOX_PLACEHOLDER.
        # Compared as JSON values (a number is equal whether written 5050 or 5050.0).
        got: Dict[str, List[Any]] = {}
        for r in output.records:
            data = json.dumps(without_nulls(r.record.data)).replace(sandbox.url + "/", SANDBOX_PLACEHOLDER + "/")
            got.setdefault(r.record.stream, []).append(json.loads(data))
        missing = [record for record in expected if record["data"] not in got.get(record["stream"], [])]
        assert not missing, missing[:3]
