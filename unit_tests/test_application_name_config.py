"""`application_name` (formerly `app_id`) is sent as X-Personio-App-ID; configs saved with `app_id` keep working.

The key was renamed because Airbyte's acceptance tests take any field named `app_id` for an unmarked
secret. The manifest's config normalization reads an old `app_id` as `application_name`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import BASE, json_response, v1_auth_request, v1_list, v1_token_response
from source_personio.run import create_source
from source_personio.source import SourcePersonio

CATEGORIES = f"{BASE}/v1/company/document-categories"


def _read_categories_through_the_entrypoint(config: dict, tmp_path: Path, expected_app_id: str):
    """A read as Airbyte runs it (config file -> create_source -> read), answering only when the
    request carries ``X-Personio-App-ID: expected_app_id``."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    catalog = CatalogBuilder().with_stream("document_categories", SyncMode.full_refresh).build()
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps({"streams": [{"stream": {"name": "document_categories", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}))
    with HttpMocker() as http:
        http.post(v1_auth_request(), v1_token_response("papi-abc"))
        http.get(
            HttpRequest(CATEGORIES, headers={"Authorization": "Bearer papi-abc", "X-Personio-App-ID": expected_app_id}),
            json_response(v1_list([{"id": 1, "type": "DocumentCategory", "attributes": {"name": "x"}}])),
        )
        source = create_source(["read", "--config", str(path), "--catalog", str(catalog_path)])
        return read(source, config, catalog)


def test_application_name_is_sent_as_the_personio_app_id_header(config, tmp_path):
    output = _read_categories_through_the_entrypoint({**config, "application_name": "ACME_DWH"}, tmp_path, "ACME_DWH")
    assert not output.errors
    assert len(output.records) == 1


def test_a_config_saved_with_app_id_still_sends_it(config, tmp_path):
    output = _read_categories_through_the_entrypoint({**config, "app_id": "ACME_LEGACY"}, tmp_path, "ACME_LEGACY")
    assert not output.errors
    assert len(output.records) == 1


def test_application_name_wins_over_an_old_app_id(config, tmp_path):
    output = _read_categories_through_the_entrypoint(
        {**config, "app_id": "OLD_NAME", "application_name": "NEW_NAME"}, tmp_path, "NEW_NAME"
    )
    assert not output.errors
    assert len(output.records) == 1


def test_the_source_reads_an_old_app_id_as_application_name(config):
    source = SourcePersonio(config={**config, "app_id": "ACME_LEGACY"})
    assert source._config.get("application_name") == "ACME_LEGACY"
    assert "app_id" not in source._config


def test_normalizing_an_old_app_id_prints_nothing(config, capsys):
    """A config migration would print the whole config (client secret included) as a control message;
    the normalization prints nothing."""
    SourcePersonio(config={**config, "app_id": "ACME_LEGACY"})
    assert capsys.readouterr().out == ""


def test_the_spec_offers_application_name_and_no_app_id():
    spec = SourcePersonio().spec(logger=None).connectionSpecification  # type: ignore[arg-type]
    properties = spec["properties"]
    assert "application_name" in properties and "app_id" not in properties
    assert properties["application_name"]["type"] == "string"
    assert "X-Personio-App-ID" in properties["application_name"]["description"]


@pytest.mark.parametrize("value", [{"x": 1}, 7])
def test_an_app_id_that_is_not_text_is_still_a_config_error(config, tmp_path, value):
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config, "app_id": value}))
    with pytest.raises(AirbyteTracedException) as error:
        create_source(["check", "--config", str(path)])
    assert error.value.message.startswith("app_id must be a string")
