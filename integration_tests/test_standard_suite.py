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

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog, ConfiguredAirbyteCatalogSerializer
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.models.scenario import REMOVED_ENTRY_KEYS
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401  (parametrizes `scenario`)
from airbyte_cdk.test.standard_tests.source_base import SourceTestSuiteBase

from sandbox_helpers import without_nulls
from source_personio.components import clear_token_cache
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
        streams = sorted({e["stream"] for e in expected})
        full = json.loads((ROOT / entry["configured_catalog_path"]).read_text())
        full["streams"] = [s for s in full["streams"] if s["stream"]["name"] in streams]
        catalog: ConfiguredAirbyteCatalog = ConfiguredAirbyteCatalogSerializer.load(full)
        clear_token_cache()
        output = read(SourcePersonio(catalog=catalog, config=config), config, catalog)
        got = [json.dumps(without_nulls(r.record.data), sort_keys=True) + r.record.stream for r in output.records]
        for record in expected:
            assert json.dumps(record["data"], sort_keys=True) + record["stream"] in got, record
