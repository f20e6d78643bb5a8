"""SourcePersonio: the declarative manifest plus a check that names missing permissions."""

from __future__ import annotations

import logging
from typing import Any, Dict, Iterator, List, Mapping, Optional


from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio import cdk_adaptations, report_streams
from source_personio.permissions import MissingPermissionLogFilter, PermissionSkippingRead
from source_personio.auth import PersonioTokenAuthenticator, personio_headers
from source_personio.config import validate_base_url, validate_config

from source_personio.access_check import CheckResult, run_probes
from source_personio.config import MANIFEST_PATH


class SourcePersonio(YamlDeclarativeSource):
    """Personio source. The manifest is always the one shipped in this package, by absolute path,
    so a stray ``manifest.yaml`` in the working directory can never replace it."""

    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> None:
        super().__init__(path_to_yaml=str(MANIFEST_PATH), catalog=catalog, config=config, state=state)
        # The pacer, the partition queue bound and the replacement cursors (see cdk_adaptations.py's table);
        # each stops the connector here if the installed CDK lacks a name it relies on.
        cdk_adaptations.install_source_adaptations(self, config)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove the credentials for v1 and v2 and name every stream this credential or company cannot read
        (see access_check.py): FAILED only for wrong credentials, other errors, or when nothing is readable."""
        try:
            validate_config(config)
            result = run_check_probes(config, logger)
            if not any("custom_reports_list" in streams for streams, _ in result.unreadable):
                logger.warning(report_streams.v1_deprecation_warning(report_streams.V1_REPORT_STREAMS))
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        if result.failures:
            return AirbyteConnectionStatus(status=Status.FAILED, message=" ".join(result.failures + ([
                "Streams this credential cannot read: " + result.unreadable_text() + "."] if result.unreadable else [])))
        if result.nothing_readable:
            return AirbyteConnectionStatus(
                status=Status.FAILED,
                message="The Personio API credential works but may read none of the streams -- "
                + result.unreadable_text()
                + ".",
            )
        if result.unreadable:
            # The credentials work: these streams are skipped (with one warning each) at read time.
            message = (
                "Connected. Streams this Personio credential or company cannot read (a sync skips them with a "
                "warning and reads the rest): " + result.unreadable_text() + "."
            )
            logger.warning(message)
            return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=message)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _dynamic_stream_configs(self, manifest: Mapping[str, Any], *args: Any, **kwargs: Any) -> List[Dict[str, Any]]:
        """One stream per custom report (the manifest's dynamic_streams) unless custom_report_streams is false
        (a CDK private method: cdk_adaptations ``dynamic_streams_switch``)."""
        if (self._config or {}).get("custom_report_streams") is False:
            return []
        return super()._dynamic_stream_configs(manifest, *args, **kwargs)

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        validate_config(config)
        catalog = super().discover(logger, config)
        # grouped/chart v2 reports have no columns: not offered (the columns extractor warned why)
        catalog.streams = report_streams.without_columnless_v2_reports(catalog.streams)
        return catalog

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        validate_config(config)
        deprecation = report_streams.v1_deprecation_warning(each.stream.name for each in catalog.streams)
        if deprecation:
            logger.warning(deprecation)
        # The streams built to check the catalog and state are the ones read: building them again would
        # list the custom reports (and their columns) a second time.
        self._streams_for_read = check_catalog_and_state(self, config, catalog, state)
        catalog, vanished = without_vanished_streams(catalog, {stream.name for stream in self._streams_for_read})
        for name in vanished:
            yield vanished_stream_warning(name, config)
        # catalog schemas reused, partitions in flight bounded (see cdk_adaptations.py)
        cdk_adaptations.install_read_adaptations(self._streams_for_read, catalog, config)
        # Streams the credential lacks a scope or permission for are skipped with a warning (issue 5).
        log_filter = MissingPermissionLogFilter()
        targets = {logger, logging.getLogger(f"airbyte.{self.name}")}
        for each in (logging.getLogger(), logging.getLogger("airbyte"), logger):
            targets.update(each.handlers)
        for each in targets:
            each.addFilter(log_filter)
        try:
            selected = [each.stream.name for each in catalog.streams]
            catalog = long_poles_first(catalog)
            yield from PermissionSkippingRead(logger, selected).wrap(super().read(logger, config, catalog, state))
        finally:
            self._streams_for_read = None
            for each in targets:
                each.removeFilter(log_filter)

    def streams(self, config: Mapping[str, Any]) -> List[Any]:
        built = getattr(self, "_streams_for_read", None)
        return built if built is not None else super().streams(config)


# Streams with one request per person, absence period, application or employee, in the order of the time
# they need at Personio's documented limits for a typical company (employments: 10/s per person; breakdowns
# and stage transitions: 10/s per period/application; attendances: 10/s pages; balances: within v1's 2,000/min).
LONG_POLE_STREAMS = (
    "employments",
    "absence_period_breakdowns",
    "recruiting_application_stage_transitions",
    "employees_absences_balance",
    "attendances",
)


def long_poles_first(catalog: ConfiguredAirbyteCatalog) -> ConfiguredAirbyteCatalog:
    """The catalog with the streams that decide when a paced sync ends moved to the front.

    The CDK starts the partition generators of at most half as many streams as there are workers, in
    catalog order, and the substreams' generators run until their last partition is handed over. A
    long-pole stream listed late (employments: one request per person at 10/s) would then start only
    when an earlier generator finishes, and the sync would end that much after its rate-limit floor.
    """
    rank = {name: i for i, name in enumerate(LONG_POLE_STREAMS)}
    ordered = sorted(catalog.streams, key=lambda each: rank.get(each.stream.name, len(rank)))
    return ConfiguredAirbyteCatalog(streams=ordered)


def check_catalog_and_state(
    source: "SourcePersonio",
    config: Mapping[str, Any],
    catalog: ConfiguredAirbyteCatalog,
    state: Optional[List[AirbyteStateMessage]],
    logger: Optional[logging.Logger] = None,
) -> List[Any]:
    """Build the streams; fail fast with a config error when the catalog names a stream this connector
    does not offer (the CDK would silently read nothing) or the saved state cannot be read (the CDK
    would fail with a bare ValueError while building the streams)."""
    try:
        streams = source.streams(config)
    except (ValueError, TypeError, KeyError) as error:
        if not state:
            raise
        raise AirbyteTracedException(
            message=(
                "The saved state is not a state of this Personio connector or is corrupt "
                f"({str(error)[:200]}). Reset the connection's state (or the affected streams) to sync from start_date again."
            ),
            internal_message=f"invalid state: {error}",
            failure_type=FailureType.config_error,
        ) from None
    offered = {stream.name for stream in streams}
    unknown = sorted({c.stream.name for c in catalog.streams} - offered)
    vanished = [name for name in unknown if report_streams.is_per_report_stream(name)]
    if vanished and len(vanished) == len({c.stream.name for c in catalog.streams}):
        raise AirbyteTracedException(
            message=(
                f"None of the selected streams is offered any more: {', '.join(vanished)} (a custom report that was "
                "deleted, archived or is no longer enabled for API access, or custom_report_streams switched off). "
                "Refresh the source schema in the connection's settings and select the streams to sync."
            ),
            failure_type=FailureType.config_error,
        )
    unknown = [name for name in unknown if name not in vanished]
    if unknown:
        raise AirbyteTracedException(
            message=(
                f"The configured catalog names stream(s) {', '.join(unknown)} that source-personio does not offer. "
                "Refresh the source schema in the connection's settings and remove them."
            ),
            failure_type=FailureType.config_error,
        )
    return streams


# Streams made from the company's reports (one per report): they come and go with the reports.
def without_vanished_streams(catalog: ConfiguredAirbyteCatalog, offered: set) -> "tuple[ConfiguredAirbyteCatalog, List[str]]":
    """The catalog without the per-report streams this connector no longer offers, and their names.

    Personio quirk: a report stream exists as long as its report does -- deleting or archiving the report,
    disabling its API access, revoking the credential's report access or switching custom_report_streams off
    removes it from discover while connections still select it. Those are skipped with a warning and the
    other streams sync; a stream name no version of this connector offers stays a config error
    (:func:`check_catalog_and_state`).
    """
    vanished = [c.stream.name for c in catalog.streams if c.stream.name not in offered and report_streams.is_per_report_stream(c.stream.name)]
    if not vanished:
        return catalog, []
    kept = [c for c in catalog.streams if c.stream.name not in vanished]
    return ConfiguredAirbyteCatalog(streams=kept), vanished


def vanished_stream_warning(name: str, config: Mapping[str, Any]) -> AirbyteMessage:
    from airbyte_cdk.models import AirbyteLogMessage, Level, Type

    why = (
        "custom_report_streams is switched off"
        if config.get("custom_report_streams") is False
        else "its report was deleted or archived, is no longer enabled for API access, or the credential lost access to reports"
    )
    return AirbyteMessage(
        type=Type.LOG,
        log=AirbyteLogMessage(
            level=Level.WARN,
            message=f"Skipped stream {name}: source-personio no longer offers it ({why}). The other streams are synced; "
            "refresh the source schema in the connection's settings to remove it.",
        ),
    )


def run_check_probes(config: Mapping[str, Any], logger: logging.Logger) -> CheckResult:
    """Run the check probes; raise a config error when the credentials are rejected."""
    base_url = validate_base_url(config.get("base_url"))
    authenticators = {
        version: PersonioTokenAuthenticator(config=config, parameters={}, api_version=version, max_attempts=3)
        for version in ("v1", "v2")
    }
    return run_probes(config, logger, authenticators, base_url, personio_headers(config))
