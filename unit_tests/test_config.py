"""config.py: what a user can get wrong in the form is one config error; defaults and bounds come from the spec."""

from __future__ import annotations

import logging
import sys

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.config import validate_base_url, validate_config
from source_personio.run import _no_traceback_for_traced_errors
from source_personio.source import SourcePersonio, check_catalog_and_state


@pytest.mark.parametrize(
    "field,value",
    [("client_id", 7), ("client_secret", ["a"]), ("base_url", 443), ("start_date", 20240101), ("app_id", {"x": 1})],
)
def test_a_field_that_must_be_text_but_is_not_is_a_config_error_naming_it(config, field, value):
    with pytest.raises(AirbyteTracedException) as error:
        validate_config(dict(config, **{field: value}))
    assert error.value.failure_type == FailureType.config_error
    assert error.value.message.startswith(f"{field} must be a string")


@pytest.mark.parametrize("value", ["5", -1, 61, True])
def test_retry_backoff_seconds_outside_its_range_is_a_config_error(config, value):
    with pytest.raises(AirbyteTracedException) as error:
        validate_config(dict(config, retry_backoff_seconds=value))
    assert "retry_backoff_seconds" in error.value.message


def test_valid_config_passes(config):
    validate_config(dict(config, retry_backoff_seconds=0.2, base_url="http://127.0.0.1:9000", start_date="2024-01-01"))


def test_a_catalog_with_an_unknown_stream_is_a_config_error_naming_it(config):
    catalog = CatalogBuilder().with_stream("employees", SyncMode.full_refresh).with_stream("payroll", SyncMode.full_refresh).build()
    source = SourcePersonio(catalog=catalog, config=config)
    with pytest.raises(AirbyteTracedException) as error:
        check_catalog_and_state(source, config, catalog, None)
    assert error.value.failure_type == FailureType.config_error
    assert "payroll" in error.value.message and "employees" not in error.value.message


def test_a_state_with_an_unparsable_cursor_asks_for_a_reset(config):
    catalog = CatalogBuilder().with_stream("employees", SyncMode.incremental).build()
    state = StateBuilder().with_stream_state("employees", {"last_modified_at": "yesterday-ish"}).build()
    source = SourcePersonio(catalog=catalog, config=config, state=state)
    with pytest.raises(AirbyteTracedException) as error:
        check_catalog_and_state(source, config, catalog, state)
    assert error.value.failure_type == FailureType.config_error
    assert "Reset" in error.value.message


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        return logging.LogRecord("airbyte", logging.ERROR, __file__, 1, "Exception while syncing stream x", None, sys.exc_info())


def test_log_lines_about_traced_errors_lose_only_their_traceback():
    record = _record(AirbyteTracedException(message="Personio rejected the client_id/client_secret"))
    assert _no_traceback_for_traced_errors(record) is True
    assert record.exc_info is None and record.getMessage() == "Exception while syncing stream x"


def test_log_lines_about_unexpected_errors_keep_their_traceback():
    record = _record(KeyError("bug"))
    assert _no_traceback_for_traced_errors(record) is True
    assert record.exc_info is not None


@pytest.mark.parametrize(
    "url",
    ["https://api.personio.de", "http://127.0.0.1:8080", "http://127.9.9.9:1", "http://localhost:9000", "http://[::1]:8000"],
)
def test_base_url_accepts_https_and_loopback_http(url):
    assert validate_base_url(url) == url


@pytest.mark.parametrize("url", ["http://api.personio.de", "http://10.0.0.1", "http://128.0.0.1", "ftp://127.0.0.1", "not a url"])
def test_base_url_rejects_plain_http_to_other_hosts_and_junk(url):
    with pytest.raises(AirbyteTracedException) as error:
        validate_base_url(url)
    assert error.value.failure_type == FailureType.config_error


def test_missing_client_secret_is_a_config_error_naming_the_field():
    with pytest.raises(AirbyteTracedException) as error:
        validate_config({"client_id": "x"})
    assert "client_secret" in error.value.message
    assert error.value.failure_type == FailureType.config_error


def test_out_of_range_num_workers_is_a_config_error():
    with pytest.raises(AirbyteTracedException) as error:
        validate_config({"client_id": "x", "client_secret": "y", "num_workers": 500})
    assert "num_workers" in error.value.message


# ---------------------------------------------------------------- BlankObjectsToNull


# ---------------------------------------------------------------- one source per value: the spec


def _resolved_manifest():
    from source_personio.source import SourcePersonio

    config = {"client_id": "id", "client_secret": "s", "start_date": "2024-01-01"}
    return SourcePersonio(config=config).resolved_manifest


def test_every_default_the_code_reads_is_the_spec_s():
    from source_personio import config as config_module

    spec = _resolved_manifest()["spec"]["connection_specification"]["properties"]
    assert config_module.DEFAULT_BASE_URL == spec["base_url"]["default"] == "https://api.personio.de"
    assert config_module.retry_backoff_seconds({}) == spec["retry_backoff_seconds"]["default"]
    assert config_module.num_workers({}) == spec["num_workers"]["default"]
    assert config_module.pace_requests({}) is spec["pace_requests"]["default"] is True
    assert config_module.pace_requests({"pace_requests": False}) is False


def test_pace_requests_is_in_the_spec_with_a_description():
    spec = _resolved_manifest()["spec"]["connection_specification"]["properties"]
    assert spec["pace_requests"]["type"] == "boolean"
    assert "rate limit" in spec["pace_requests"]["description"]


def test_the_manifest_s_base_url_and_worker_defaults_are_the_spec_s():
    """The manifest's Jinja expressions cannot import the spec: their literals are held against it here."""
    import re

    manifest = _resolved_manifest()
    spec = manifest["spec"]["connection_specification"]["properties"]

    def strings(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str):
            yield node

    url_bases = {s for s in strings(manifest["definitions"]) if "config.get('base_url')" in s or 'config["base_url"]' in s}
    assert url_bases
    for url_base in url_bases:
        assert set(re.findall(r"https?://[^'\"]+", url_base)) <= {spec["base_url"]["default"]}, url_base
    level = manifest["concurrency_level"]
    assert level["max_concurrency"] == spec["num_workers"]["maximum"]
    assert f", {spec['num_workers']['default']})" in level["default_concurrency"]


def test_num_workers_outside_the_spec_s_bounds_is_a_config_error():
    from source_personio.config import spec_property

    bounds = spec_property("num_workers")
    for value in (bounds["minimum"] - 1, bounds["maximum"] + 1):
        with pytest.raises(AirbyteTracedException) as error:
            validate_config({"client_id": "x", "client_secret": "y", "num_workers": value})
        assert error.value.failure_type == FailureType.config_error
        assert f"between {bounds['minimum']} and {bounds['maximum']}" in error.value.message
