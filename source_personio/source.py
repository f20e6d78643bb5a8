"""SourcePersonio: the declarative manifest plus a check that names missing permissions."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

import requests

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

from source_personio.cursors import install_global_substream_cursors, install_read_start_bounded_cursors
from source_personio.state_format import install_colon_offset_state
from source_personio.pacing import PersonioRateLimits, bound_partitions_in_flight, bound_pending_partitions
from source_personio import report_streams
from source_personio.components import (
    MissingPermissionLogFilter,
    PermissionSkippingRead,
    PersonioTokenAuthenticator,
    personio_error_detail,
    personio_headers,
    validate_base_url,
    validate_config,
)

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.yaml"

# One cheap request per resource the streams read: (api version, path, query, what to grant).
CHECK_PROBES = (
    ("v1", "/v1/company/employees", {"limit": 1, "offset": 0}, "employees (read access to employee data)"),
    ("v1", "/v1/company/time-off-types", {"limit": 1, "offset": 0}, "absence types"),
    ("v1", "/v1/company/time-offs", {"limit": 1, "offset": 1}, "absences (time-offs)"),
    ("v1", "/v1/company/document-categories", {}, "document categories"),
    ("v1", "/v1/company/custom-reports/reports", {}, "custom reports"),
    ("v2", "/v2/attendance-periods", {"limit": 1}, "scope personio:attendances:read"),
    ("v2", "/v2/projects", {"limit": 1}, "scope personio:projects:read"),
    # v2 HR data and recruiting (issue 5)
    ("v1", "/v1/company/employees/attributes", {}, "employee attributes"),
    ("v2", "/v2/persons", {"limit": 1}, "scope personio:persons:read"),
    ("v2", "/v2/absence-periods", {"limit": 1}, "scope personio:absences:read"),
    ("v2", "/v2/legal-entities", {"limit": 1}, "scope personio:legal-entities:read"),
    ("v2", "/v2/org-units", {"limit": 1, "type": "department"}, "scope personio:org-units:read"),
    ("v2", "/v2/cost-centers", {"limit": 1}, "scope personio:cost-centers:read"),
    ("v2", "/v2/workplaces", {"limit": 1}, "scope personio:workplaces:read"),
    ("v2", "/v2/compensations/types", {"limit": 1}, "scope personio:compensations:read"),
    ("v2", "/v2/recruiting/candidates", {"limit": 1}, "scope personio:recruiting:read"),
    # Report API v2 (issue 13): without the reports right Personio answers 400 "Unauthorized token"
    ("v2", "/v2/reports", {"limit": 1}, "the reports right (Report API v2)"),
)


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
        # One pacer for every requester of this sync (see pacing.py): the manifest's api_budget can only
        # express first-match CDK policies, so the component factory is handed ours before streams are built.
        # pace_requests=false (hidden, benchmarks only): measure the connector itself against an unlimited sandbox.
        if (config or {}).get("pace_requests", True) is not False:
            self._constructor._api_budget = PersonioRateLimits()
        bound_pending_partitions(self)
        # Substreams with one global cursor keep no cursor per closed partition (see cursors.py).
        install_global_substream_cursors(self)
        # State cursors with %:z write the offset as +01:00, as the records do (see state_format.py).
        install_colon_offset_state(self)
        # A stream's saved state never passes the start of its read: changes made meanwhile are re-read.
        install_read_start_bounded_cursors(self)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove the credentials for v1 and v2 and name every permission or scope that is missing."""
        try:
            validate_config(config)
            problems = run_check_probes(config, logger)
            if not any("/v1/company/custom-reports/reports" in p for p in problems):
                logger.warning(report_streams.v1_deprecation_warning(report_streams.V1_REPORT_STREAMS))
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        missing = [p for p in problems if isinstance(p, MissingAccess)]
        if len(problems) > len(missing) or (missing and missing[0].count == len(CHECK_PROBES)):
            return AirbyteConnectionStatus(status=Status.FAILED, message=" ".join(problems))
        if missing:
            # The credentials work: streams needing what is missing are skipped (with a warning) at read time.
            logger.warning(missing[0])
            return AirbyteConnectionStatus(status=Status.SUCCEEDED, message=str(missing[0]))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def _dynamic_stream_configs(self, manifest: Mapping[str, Any], *args: Any, **kwargs: Any) -> List[Dict[str, Any]]:
        """One stream per custom report (the manifest's dynamic_streams) unless custom_report_streams is false."""
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
        self._streams_for_read = check_catalog_and_state(self, config, catalog, state, logger)
        catalog = ConfiguredAirbyteCatalog(streams=[c for c in catalog.streams if c.stream.name in {s.name for s in self._streams_for_read}])
        reuse_catalog_schemas(self._streams_for_read, catalog)
        if config.get("pace_requests", True) is not False:
            # keeps every paced endpoint fed (see PartitionsInFlight); without pacing there is nothing to feed
            bound_partitions_in_flight(self._streams_for_read, int(config.get("num_workers") or 16))
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


def reuse_catalog_schemas(streams: List[Any], catalog: ConfiguredAirbyteCatalog) -> int:
    """Read with the schemas of the configured catalog where a stream's schema costs a request.

    Personio quirk: the employees schema is built from ``GET /v1/company/employees/attributes`` and each
    ``custom_report_<name>`` schema from the report's column list, and the CDK fetches them again at read
    to type the records. The catalog already holds the schema discovered for the connection -- the one
    the destination expects -- so that is used instead (one request less per such stream and sync).
    A catalog stream without ``properties`` keeps the discovered loader; another CDK layout is left as is.
    Returns how many streams use their catalog schema.
    """
    from airbyte_cdk.sources.declarative.schema import DynamicSchemaLoader
    from airbyte_cdk.sources.declarative.schema.caching_schema_loader_decorator import CachingSchemaLoaderDecorator

    schemas = {c.stream.name: c.stream.json_schema for c in catalog.streams}
    reused = 0
    for stream in streams:
        schema = schemas.get(getattr(stream, "name", None))
        if not isinstance(schema, Mapping) or not schema.get("properties"):
            continue
        factory = getattr(getattr(stream, "_stream_partition_generator", None), "_partition_factory", None)
        loader = getattr(factory, "_schema_loader", None)
        if isinstance(loader, CachingSchemaLoaderDecorator) and isinstance(getattr(loader, "_decorated", None), DynamicSchemaLoader):
            loader._loaded_schema = dict(schema)
            reused += 1
    return reused


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
    # a per-report stream whose report is gone is skipped with a warning, not a failed sync (issue 13)
    gone, unknown = report_streams.split_gone_report_streams((c.stream.name for c in catalog.streams), offered)
    if gone:
        (logger or logging.getLogger("airbyte")).warning(report_streams.gone_report_streams_warning(gone))
        if not unknown and len(gone) == len(catalog.streams):
            raise AirbyteTracedException(
                message=report_streams.gone_report_streams_warning(gone) + " Nothing else was selected.",
                failure_type=FailureType.config_error,
            )
    if unknown:
        raise AirbyteTracedException(
            message=(
                f"The configured catalog names stream(s) {', '.join(unknown)} that source-personio does not offer. "
                "Refresh the source schema in the connection's settings and remove them."
            ),
            failure_type=FailureType.config_error,
        )
    return streams


def run_check_probes(config: Mapping[str, Any], logger: logging.Logger) -> List[str]:
    """Return a list of human-readable problems; raise a config error when the credentials are rejected."""
    base_url = validate_base_url(config.get("base_url"))
    authenticators = {
        version: PersonioTokenAuthenticator(config=config, parameters={}, api_version=version, max_attempts=3)
        for version in ("v1", "v2")
    }
    missing: List[str] = []
    other: List[str] = []
    session = requests.Session()
    for version, path, params, what in CHECK_PROBES:
        authenticator = authenticators[version]
        response = None
        for attempt in range(4):
            if attempt:
                time.sleep(min(float(config.get("retry_backoff_seconds", 2)), 5) * 2 ** (attempt - 1))
            headers = {"Accept": "application/json", **personio_headers(config), **authenticator.get_auth_header()}
            try:
                response = session.get(f"{base_url}{path}", params=params, headers=headers, timeout=60)
            except requests.RequestException as exc:
                response = None
                problem = f"could not reach {base_url} ({type(exc).__name__})"
                continue
            if response.status_code == 401 and attempt == 0:
                authenticator.refresh_and_set_access_token()
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            break
        if response is None:
            other.append(f"GET {path}: {problem}.")
            continue
        if response.status_code == 403 or (
            path == "/v2/reports" and response.status_code == 400 and "Unauthorized token" in personio_error_detail(response)
        ):
            missing.append(f"{what} (GET {path}{personio_error_detail(response)})")
        elif response.status_code == 401:
            raise AirbyteTracedException(
                message=f"Personio rejected the {version} access token on GET {path} (HTTP 401). "
                "Check the API credential in Personio > Settings > Integrations > API credentials.",
                failure_type=__import__("airbyte_cdk.models", fromlist=["FailureType"]).FailureType.config_error,
            )
        elif not response.ok:
            other.append(f"GET {path} answered HTTP {response.status_code}{personio_error_detail(response)}.")
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("success") is False:
                other.append(f"GET {path} answered success=false{personio_error_detail(response)}.")
            else:
                logger.info(f"check: GET {path} OK")
    problems: List[str] = []
    if missing:
        problems.append(
            MissingAccess(
                "The Personio API credential lacks access to: " + "; ".join(missing) + ". Streams that need it are "
                "skipped with a warning; grant it in Personio > Settings > Integrations > API credentials "
                "(v1 resources and attributes, v2 scopes) to sync them.",
                count=len(missing),
            )
        )
    problems.extend(other)
    return problems


class MissingAccess(str):
    """A check problem that only says which permissions or scopes are missing (``count`` of them)."""

    def __new__(cls, text: str, count: int = 0) -> "MissingAccess":
        value = super().__new__(cls, text)
        value.count = count
        return value


