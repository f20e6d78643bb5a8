"""cdk_adaptations.py: every runtime adaptation's CDK names resolve in the installed CDK, a missing or changed
name stops the connector with an error naming the adaptation, and each adaptation does what its table entry says."""

from __future__ import annotations

import inspect
import queue
from pathlib import Path

import pytest

from airbyte_cdk.models import ConfiguredAirbyteCatalogSerializer, FailureType
from airbyte_cdk.test.mock_http import HttpMocker

from source_personio import cdk_adaptations
from source_personio.cdk_adaptations import ADAPTATIONS, CdkAdaptationError, resolve
from source_personio.pacing import PersonioRateLimits
from source_personio.source import SourcePersonio

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {"client_id": "id", "client_secret": "secret", "start_date": "2024-01-01", "base_url": "http://127.0.0.1:1"}


@pytest.mark.parametrize("adaptation", ADAPTATIONS, ids=lambda a: a.name)
def test_every_name_an_adaptation_relies_on_resolves_in_the_installed_cdk(adaptation):
    for name in adaptation.relies_on:
        assert resolve(name) is not None, name
    for name, parameters in adaptation.parameters:
        assert set(parameters) <= set(inspect.signature(resolve(name)).parameters), name
    cdk_adaptations.check(adaptation)


@pytest.mark.parametrize("adaptation", ADAPTATIONS, ids=lambda a: a.name)
def test_every_adaptation_names_the_tests_that_pin_it(adaptation):
    assert adaptation.pinned_by
    for test in adaptation.pinned_by:
        path, _, function = test.partition("::")
        assert (ROOT / path).is_file(), test
        if function:
            assert f"def {function}(" in (ROOT / path).read_text(), test


def test_the_module_docstring_table_lists_every_adaptation():
    table = cdk_adaptations.__doc__ or ""
    assert [a.name for a in ADAPTATIONS if a.name not in table] == []


def test_a_cdk_without_a_factory_method_stops_the_connector_naming_the_adaptation(monkeypatch):
    from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

    monkeypatch.delattr(ModelToComponentFactory, "create_concurrent_cursor_from_perpartition_cursor")
    with pytest.raises(CdkAdaptationError) as error:
        SourcePersonio(config=CONFIG)
    assert error.value.failure_type == FailureType.system_error
    assert "'global_substream_cursor'" in error.value.message
    assert "ModelToComponentFactory.create_concurrent_cursor_from_perpartition_cursor" in error.value.message


def test_a_cdk_whose_thread_pool_takes_other_parameters_stops_the_connector(monkeypatch):
    from airbyte_cdk.sources.concurrent_source.thread_pool_manager import ThreadPoolManager

    monkeypatch.setattr(ThreadPoolManager, "__init__", lambda self, threadpool, logger: None)
    with pytest.raises(CdkAdaptationError) as error:
        SourcePersonio(config=CONFIG)
    assert "'bounded_partition_queue'" in error.value.message and "max_concurrent_tasks" in error.value.message


def test_a_source_without_the_factory_attribute_stops_the_connector():
    class AnotherLayout:
        pass

    with pytest.raises(CdkAdaptationError) as error:
        cdk_adaptations.install_shared_pacer(AnotherLayout())
    assert "'shared_rate_limit_pacer'" in error.value.message and "_constructor" in error.value.message


def test_the_console_entry_point_reports_a_missing_cdk_name_as_one_system_error(monkeypatch, capsys, tmp_path):
    import json

    from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor

    from source_personio import run

    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    monkeypatch.delattr(ConcurrentCursor, "_add_slice_to_state")
    with pytest.raises(SystemExit):
        run.run(["discover", "--config", str(config)])
    (line,) = [json.loads(each) for each in capsys.readouterr().out.splitlines() if each.startswith("{")]
    assert line["type"] == "TRACE" and line["trace"]["error"]["failure_type"] == "system_error"
    assert "'read_start_bounded_state'" in line["trace"]["error"]["message"]


def test_one_pacer_is_handed_to_every_requester():
    source = SourcePersonio(config=CONFIG)
    assert isinstance(source._constructor._api_budget, PersonioRateLimits)
    unpaced = SourcePersonio(config={**CONFIG, "pace_requests": False})
    assert not isinstance(unpaced._constructor._api_budget, PersonioRateLimits)


def test_at_most_four_partitions_per_worker_wait():
    source = SourcePersonio(config={**CONFIG, "num_workers": 5})
    assert source._concurrent_source._threadpool._max_concurrent_tasks == 20


def test_at_most_500_records_wait_for_the_main_thread():
    source = SourcePersonio(config=CONFIG)
    waiting = source._concurrent_source._queue  # what the workers fill and the main thread writes out
    for n in range(500):
        waiting.put_nowait(n)
    with pytest.raises(queue.Full):  # a worker's put waits here until the main thread has taken one
        waiting.put_nowait("record 501")


def test_custom_report_streams_false_lists_no_report():
    config = {**CONFIG, "custom_report_streams": False}
    with HttpMocker():  # no request may leave: listing the reports would be one
        names = [stream.name for stream in SourcePersonio(config=config).streams(config)]
    assert "employees" in names and "absences" in names
    assert not [n for n in names if n.startswith(("custom_report_", "report_v2_"))]


def test_the_read_types_employees_with_the_catalog_schema():
    config = {**CONFIG, "custom_report_streams": False}
    schema = {"type": "object", "properties": {"id": {"type": ["null", "integer"]}, "first_name": {"type": ["null", "string"]}}}
    catalog = ConfiguredAirbyteCatalogSerializer.load(
        {
            "streams": [
                {
                    "stream": {"name": "employees", "json_schema": schema, "supported_sync_modes": ["full_refresh"]},
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "overwrite",
                }
            ]
        }
    )
    with HttpMocker():  # the attribute list is not asked for
        streams = SourcePersonio(config=config).streams(config)
        assert cdk_adaptations.reuse_catalog_schemas(streams, catalog) == 1
        (employees,) = [s for s in streams if s.name == "employees"]
        assert employees.get_json_schema()["properties"] == schema["properties"]
