"""The streams that decide when a paced sync ends are started first (source.long_poles_first)."""

from __future__ import annotations

from airbyte_cdk.models import ConfiguredAirbyteCatalog, ConfiguredAirbyteStream, DestinationSyncMode, SyncMode
from airbyte_cdk.models import AirbyteStream

from source_personio.source import long_poles_first


def configured(*names: str) -> ConfiguredAirbyteCatalog:
    return ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(
                stream=AirbyteStream(name=name, json_schema={}, supported_sync_modes=[SyncMode.full_refresh]),
                sync_mode=SyncMode.full_refresh,
                destination_sync_mode=DestinationSyncMode.overwrite,
            )
            for name in names
        ]
    )


def names(catalog: ConfiguredAirbyteCatalog) -> list:
    return [each.stream.name for each in catalog.streams]


def test_per_person_substreams_move_ahead_of_the_lists_the_catalog_puts_first():
    catalog = configured("employees", "absence_types", "employees_absences_balance", "persons", "employments", "projects")
    assert names(long_poles_first(catalog)) == [
        "employments",
        "employees_absences_balance",
        "employees",
        "absence_types",
        "persons",
        "projects",
    ]


def test_the_other_streams_keep_the_catalog_order_and_none_is_lost():
    catalog = configured("projects", "absences", "employees", "custom_report_headcount")
    assert names(long_poles_first(catalog)) == ["projects", "absences", "employees", "custom_report_headcount"]
