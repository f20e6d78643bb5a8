"""The CDK extension layer: every runtime adaptation of airbyte-cdk this connector makes, installed from here.

The manifest says what it can; what it cannot (see each entry's ``replaces``) is done by the adaptations below,
each relying on airbyte-cdk names that are not a public extension point. They are written against
``airbyte-cdk==7.39.1`` (the pin that ships) and tested against the newest 7.x (``make test-newest-cdk``). Before
an adaptation is installed, :func:`check` resolves every CDK name it relies on (and compares a signature where
that is cheap); a name the installed CDK lacks stops the connector at start-up with :class:`CdkAdaptationError`
naming the adaptation and the name -- never a quiet fallback to the CDK default, which would change what a sync
reads or writes without a word.

Where installed: ``SourcePersonio.__init__`` (:func:`install_source_adaptations`), ``SourcePersonio.read``
(:func:`install_read_adaptations`) and the console entry point (:func:`install_process_adaptations`).

===========================  =======================================================================  ============================================
adaptation                   replaces (CDK default)                                                   pinned by (unit_tests/...)
===========================  =======================================================================  ============================================
shared_rate_limit_pacer      the manifest's ``api_budget`` (first matching policy only, a 429 without  test_pacing.py, test_cdk_adaptations.py
                             Retry-After stalls the window): one ``PersonioRateLimits`` for the sync
bounded_partition_queue      ``ThreadPoolManager``'s 10,000 pending partitions: 4 per worker           test_cdk_adaptations.py
bounded_record_queue         the read queue's 10,000 items (records waiting for the main thread):      test_cdk_adaptations.py
                             500
global_substream_cursor      ``ConcurrentPerPartitionCursor`` in global mode keeping a cursor per      test_cursors.py
                             closed partition and building one per record
colon_offset_state           ``%:z`` written literally by Python 3.11's strftime in cursor state       test_state_format.py
read_start_bounded_state     ``ConcurrentCursor`` saving the newest record's cursor value even when   test_cursors.py
                             it lies after the start of the read (changes made meanwhile lost)
catalog_schema_reuse         the read fetching the employees / per-report schema again                test_cdk_adaptations.py, test_discovered_schemas.py
partitions_in_flight         partitions handed to workers in generator order, one endpoint hogging    test_partitions_in_flight.py
                             every worker
dynamic_streams_switch       ``_dynamic_stream_configs`` always listing the custom reports            test_cdk_adaptations.py
memoized_environment_proxies ``requests`` scanning the environment for proxies on every request       test_run.py       
===========================  =======================================================================  ============================================

The CDK names each one relies on are in :data:`ADAPTATIONS` (``module:attribute.path``). What is not in this table
uses public extension points only: custom components named by ``class_name`` in the manifest, ``check``/
``discover``/``read``/``streams`` overrides, a ``requests`` response hook (``extractors.parse_json_once``), logging
filters (``permissions.MissingPermissionLogFilter``), the catalog order (``source.long_poles_first``) and
``sys.setswitchinterval`` (``run.tune_process``).
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


class CdkAdaptationError(AirbyteTracedException):
    """The installed airbyte-cdk lacks a name an adaptation relies on (a system error: no config fixes it)."""

    def __init__(self, adaptation: str, name: str, problem: str = "does not exist") -> None:
        super().__init__(
            message=(
                f"source-personio cannot run on the installed airbyte-cdk {cdk_version()}: its adaptation "
                f"'{adaptation}' relies on the CDK name {name}, which {problem}. Install the airbyte-cdk version "
                "this connector pins (see pyproject.toml)."
            ),
            internal_message=f"CDK adaptation {adaptation}: {name} {problem}",
            failure_type=FailureType.system_error,
        )
        self.adaptation = adaptation
        self.name = name


@dataclass(frozen=True)
class Adaptation:
    """One runtime adaptation: what it replaces, the CDK names it relies on, the tests that pin it.

    ``relies_on``: ``module:attribute.path`` names resolved by :func:`check`; ``parameters``: for a callable
    name, the parameter names its signature must have (checked where listed); ``instance_attributes``: the
    attributes the adaptation reads on CDK objects built at run time, checked when it is applied
    (:func:`require_attributes`).
    """

    name: str
    replaces: str
    relies_on: Tuple[str, ...]
    pinned_by: Tuple[str, ...]
    parameters: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    instance_attributes: Tuple[str, ...] = ()


_FACTORY = "airbyte_cdk.sources.declarative.parsers.model_to_component_factory:ModelToComponentFactory"
_PER_PARTITION = "airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor:ConcurrentPerPartitionCursor"
_CONCURRENT_CURSOR = "airbyte_cdk.sources.streams.concurrent.cursor:ConcurrentCursor"
_CONVERTERS = "airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter"
_SOURCE = "airbyte_cdk.sources.declarative.concurrent_declarative_source:ConcurrentDeclarativeSource"

ADAPTATIONS: Tuple[Adaptation, ...] = (
    Adaptation(
        name="shared_rate_limit_pacer",
        replaces="the manifest api_budget: HTTPAPIBudget applies the first matching policy only and treats a 429 "
        "without Retry-After as an exhausted window; one PersonioRateLimits paces every requester of the sync",
        relies_on=(
            f"{_SOURCE}.__init__",
            _FACTORY,
            "airbyte_cdk.sources.streams.call_rate:APIBudget.acquire_call",
            "airbyte_cdk.sources.streams.call_rate:APIBudget.update_from_response",
        ),
        parameters=((f"{_FACTORY}.__init__", ("api_budget",)),),
        instance_attributes=("ConcurrentDeclarativeSource._constructor", "ModelToComponentFactory._api_budget"),
        pinned_by=("unit_tests/test_pacing.py", "unit_tests/test_cdk_adaptations.py::test_one_pacer_is_handed_to_every_requester"),
    ),
    Adaptation(
        name="bounded_partition_queue",
        replaces="ThreadPoolManager's 10,000 pending partitions: at most 4 per worker wait, so the paced endpoints "
        "take turns and memory does not grow with company size",
        relies_on=(
            "airbyte_cdk.sources.concurrent_source.thread_pool_manager:ThreadPoolManager.__init__",
            "airbyte_cdk.sources.concurrent_source.concurrent_source:ConcurrentSource.__init__",
        ),
        parameters=(
            ("airbyte_cdk.sources.concurrent_source.thread_pool_manager:ThreadPoolManager.__init__", ("threadpool", "max_concurrent_tasks")),
            ("airbyte_cdk.sources.concurrent_source.concurrent_source:ConcurrentSource.__init__", ("threadpool",)),
        ),
        instance_attributes=(
            "ConcurrentDeclarativeSource._concurrent_source",
            "ConcurrentSource._threadpool",
            "ThreadPoolManager._threadpool",
            "ThreadPoolManager._max_concurrent_tasks",
            "ThreadPoolExecutor._max_workers",
        ),
        pinned_by=("unit_tests/test_cdk_adaptations.py::test_at_most_four_partitions_per_worker_wait",),
    ),
    Adaptation(
        name="bounded_record_queue",
        replaces="the 10,000 items of the queue between the workers and the main thread: at most 500 records "
        "wait to be written, so a company's large lists (report rows, employees) do not pile up in memory",
        relies_on=(f"{_SOURCE}.__init__", "airbyte_cdk.sources.concurrent_source.concurrent_source:ConcurrentSource.__init__"),
        parameters=(("airbyte_cdk.sources.concurrent_source.concurrent_source:ConcurrentSource.__init__", ("queue",)),),
        instance_attributes=("ConcurrentDeclarativeSource._concurrent_source", "ConcurrentSource._queue"),
        pinned_by=("unit_tests/test_cdk_adaptations.py::test_at_most_500_records_wait_for_the_main_thread",),
    ),
    Adaptation(
        name="global_substream_cursor",
        replaces="ConcurrentPerPartitionCursor in global mode: keeps a cursor per closed partition and builds one per "
        "record; cursors.GlobalSubstreamCursor drops them and shares one",
        relies_on=(
            f"{_FACTORY}.create_concurrent_cursor_from_perpartition_cursor",
            _PER_PARTITION,
            f"{_PER_PARTITION}._create_cursor",
            f"{_PER_PARTITION}._cleanup_if_done",
        ),
        parameters=(
            (f"{_PER_PARTITION}._create_cursor", ("cursor_state", "runtime_lookback_window")),
            (f"{_PER_PARTITION}._cleanup_if_done", ("partition_key",)),
        ),
        instance_attributes=(
            "_use_global_cursor",
            "_global_cursor",
            "_lookback_window",
            "_cursor_per_partition",
            "_semaphore_per_partition",
            "_partitions_done_generating_stream_slices",
            "_lock",
        ),
        pinned_by=("unit_tests/test_cursors.py",),
    ),
    Adaptation(
        name="colon_offset_state",
        replaces="the state converter's strftime: %:z comes out literally on Python 3.11; "
        "state_format.ColonOffsetStateConverter writes +HH:MM as the records do",
        relies_on=(
            f"{_FACTORY}.create_concurrent_cursor_from_datetime_based_cursor",
            f"{_CONVERTERS}:CustomFormatConcurrentStreamStateConverter.output_format",
        ),
        instance_attributes=("ConcurrentCursor._connector_state_converter", "CustomFormatConcurrentStreamStateConverter._datetime_format", "_parser"),
        pinned_by=("unit_tests/test_state_format.py",),
    ),
    Adaptation(
        name="read_start_bounded_state",
        replaces="ConcurrentCursor saving the newest record's cursor value although it lies after the start of the "
        "read; cursors.ReadStartBoundedCursor bounds it so changes made during the read are read again",
        relies_on=(
            f"{_FACTORY}.create_concurrent_cursor_from_datetime_based_cursor",
            f"{_FACTORY}.create_parent_stream_config_with_substream_wrapper",
            f"{_CONCURRENT_CURSOR}._add_slice_to_state",
            f"{_CONVERTERS}:DateTimeStreamStateConverter",
            "airbyte_cdk.utils.datetime_helpers:ab_datetime_now",
        ),
        parameters=((f"{_CONCURRENT_CURSOR}._add_slice_to_state", ("partition",)),),
        instance_attributes=("_concurrent_state", "_connector_state_converter", "_slice_range", "_end_provider", "_slice_boundary_fields"),
        pinned_by=("unit_tests/test_cursors.py",),
    ),
    Adaptation(
        name="catalog_schema_reuse",
        replaces="the read asking Personio again for the employees attribute list and each report's columns to type "
        "records: the configured catalog's schema is used",
        relies_on=(
            "airbyte_cdk.sources.declarative.schema:DynamicSchemaLoader",
            "airbyte_cdk.sources.declarative.schema.caching_schema_loader_decorator:CachingSchemaLoaderDecorator",
        ),
        instance_attributes=(
            "DefaultStream._stream_partition_generator",
            "StreamSlicerPartitionGenerator._partition_factory",
            "DeclarativePartitionFactory._schema_loader",
            "CachingSchemaLoaderDecorator._decorated",
            "CachingSchemaLoaderDecorator._loaded_schema",
        ),
        pinned_by=(
            "unit_tests/test_cdk_adaptations.py::test_the_read_types_employees_with_the_catalog_schema",
            "unit_tests/test_discovered_schemas.py::test_a_read_types_employees_with_the_catalog_schema_without_listing_the_attributes_again",
        ),
    ),
    Adaptation(
        name="partitions_in_flight",
        replaces="partitions handed to workers in the order generators made them: pacing.PartitionsInFlight bounds each "
        "stream's partitions in flight (an instance's generate_partitions is wrapped)",
        relies_on=("airbyte_cdk.sources.streams.concurrent.default_stream:DefaultStream.generate_partitions",),
        pinned_by=("unit_tests/test_partitions_in_flight.py",),
    ),
    Adaptation(
        name="dynamic_streams_switch",
        replaces="the manifest's dynamic_streams always listed: custom_report_streams=false lists no report",
        relies_on=(f"{_SOURCE}._dynamic_stream_configs",),
        parameters=((f"{_SOURCE}._dynamic_stream_configs", ("manifest",)),),
        pinned_by=("unit_tests/test_cdk_adaptations.py::test_custom_report_streams_false_lists_no_report",),
    ),
    Adaptation(
        name="memoized_environment_proxies",
        replaces="requests scanning the environment for proxies before every request (not a CDK name: requests')",
        relies_on=("requests.sessions:get_environ_proxies",),
        parameters=(("requests.sessions:get_environ_proxies", ("url", "no_proxy")),),
        pinned_by=("unit_tests/test_run.py",),
    ),
)

BY_NAME: Mapping[str, Adaptation] = {each.name: each for each in ADAPTATIONS}


def cdk_version() -> str:
    try:
        from importlib.metadata import version

        return version("airbyte-cdk")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "(unknown version)"


def resolve(name: str) -> Any:
    """The object ``module:attribute.path`` names; raises ImportError/AttributeError when it is not there."""
    module_name, _, path = name.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in filter(None, path.split(".")):
        found = getattr(found, part)
    return found


def check(adaptation: Adaptation) -> None:
    """Raise :class:`CdkAdaptationError` unless every name ``adaptation`` relies on resolves (with the listed
    parameters, where listed)."""
    for name in adaptation.relies_on:
        try:
            resolve(name)
        except (ImportError, AttributeError):
            raise CdkAdaptationError(adaptation.name, name) from None
    for name, expected in adaptation.parameters:
        try:
            found = resolve(name)
            parameters = inspect.signature(found).parameters
        except (ImportError, AttributeError):
            raise CdkAdaptationError(adaptation.name, name) from None
        except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
            continue
        missing = [p for p in expected if p not in parameters]
        if missing:
            raise CdkAdaptationError(adaptation.name, name, f"has no parameter {', '.join(missing)}")


def check_all() -> None:
    for adaptation in ADAPTATIONS:
        check(adaptation)


def require_attributes(adaptation: str, obj: Any, attributes: Iterable[str], owner: Optional[str] = None) -> None:
    """Raise :class:`CdkAdaptationError` unless ``obj`` (a CDK object built at run time) has every attribute."""
    for attribute in attributes:
        if not hasattr(obj, attribute):
            raise CdkAdaptationError(adaptation, f"{owner or type(obj).__name__}.{attribute}")


# -- installers ------------------------------------------------------------------------------------------------


def install_source_adaptations(source: Any, config: Optional[Mapping[str, Any]]) -> None:
    """Everything that must be in place before the source builds its streams (called by ``SourcePersonio.__init__``)."""
    check_all()
    from source_personio.config import pace_requests

    if pace_requests(config):
        install_shared_pacer(source)
    bound_pending_partitions(source)
    bound_record_queue(source)
    install_component_factory(source)


def install_read_adaptations(streams: List[Any], catalog: Any, config: Mapping[str, Any]) -> None:
    """The adaptations applied to the streams a read built (called by ``SourcePersonio.read``)."""
    from source_personio.config import num_workers, pace_requests

    reuse_catalog_schemas(streams, catalog)
    if pace_requests(config):
        # keeps every paced endpoint fed (see PartitionsInFlight); without pacing there is nothing to feed
        bound_partitions_in_flight(streams, num_workers(config))


def install_process_adaptations() -> None:
    """Process-wide adaptations of a sync process (``run.tune_process``; not applied when used as a library)."""
    check(BY_NAME["memoized_environment_proxies"])
    memoize_environment_proxies()


# shared_rate_limit_pacer ---------------------------------------------------------------------------------------


def install_shared_pacer(source: Any) -> Any:
    """Hand the source's component factory one :class:`pacing.PersonioRateLimits` before streams are built: every
    requester (and every parent stream's factory, which copies it) then paces with it."""
    from source_personio.pacing import PersonioRateLimits

    require_attributes("shared_rate_limit_pacer", source, ("_constructor",), "ConcurrentDeclarativeSource")
    require_attributes("shared_rate_limit_pacer", source._constructor, ("_api_budget",), "ModelToComponentFactory")
    source._constructor._api_budget = budget = PersonioRateLimits()
    return budget


# bounded_partition_queue ---------------------------------------------------------------------------------------


def bound_pending_partitions(source: Any, per_worker: int = 4) -> int:
    """Let at most ``per_worker`` x workers partitions wait for a worker (the CDK allows 10,000).

    Personio quirk: most requests of a sync are substream partitions of a few endpoints that are each paced
    separately (one per employee, person, absence period, application). The CDK submits every partition its
    generators produce to one FIFO executor queue: with thousands queued, long runs of one endpoint's partitions
    hold every worker waiting for that endpoint's budget while the other endpoints' budgets go unused, and the
    queued partitions (with their cursors) make memory grow with company size. With a short queue the generators
    hand over partitions in turn as workers free up. Returns the bound.
    """
    name = "bounded_partition_queue"
    require_attributes(name, source, ("_concurrent_source",), "ConcurrentDeclarativeSource")
    require_attributes(name, source._concurrent_source, ("_threadpool",), "ConcurrentSource")
    pool = source._concurrent_source._threadpool
    require_attributes(name, pool, ("_threadpool", "_max_concurrent_tasks"), "ThreadPoolManager")
    workers = getattr(pool._threadpool, "_max_workers", None)
    if not isinstance(workers, int):
        raise CdkAdaptationError(name, "ThreadPoolExecutor._max_workers")
    pool._max_concurrent_tasks = max(workers * per_worker, 8)
    # the CDK's "list of futures is getting bigger" warning keeps the threshold of its own 10,000-task
    # queue: several generators may each submit a partition past the bound, which is harmless
    return pool._max_concurrent_tasks


# bounded_record_queue ------------------------------------------------------------------------------------------

RECORD_QUEUE_SIZE = 500


def bound_record_queue(source: Any, size: int = RECORD_QUEUE_SIZE) -> int:
    """Let at most ``size`` items wait in the queue the workers fill and the main thread empties (the CDK: 10,000).

    The main thread writes every record (serialisation is most of a sync's CPU), so unthrottled the workers
    fill the queue to its bound: 10,000 waiting records of the largest lists -- a custom report's rows, v1
    employees, 4-5 KB each as Python objects -- hold ~40 MB more at 10,000 employees than at 2,000, where a list
    has only 2,000 of them (measured: the queue full of ``custom_reports`` rows at 10,000 employees). A bound of
    2,000 still let the records of the largest lists pile up at 50,000 employees (BENCHMARKS.md); 500 waiting
    records keep the main thread busy for ~0.1 s while the workers fetch a page (a few ms from Personio's side
    of a sandbox, more over a network, where the workers wait on Personio anyway). Workers then wait on a full queue
    (the CDK's back-pressure); the main thread never waits on it (the CDK's ``ConcurrentMessageRepository`` puts
    without blocking there). Returns the bound.
    """
    import queue as _queue

    name = "bounded_record_queue"
    require_attributes(name, source, ("_concurrent_source",), "ConcurrentDeclarativeSource")
    require_attributes(name, source._concurrent_source, ("_queue",), "ConcurrentSource")
    record_queue = source._concurrent_source._queue
    if not isinstance(record_queue, _queue.Queue):
        raise CdkAdaptationError(name, "ConcurrentSource._queue", f"is a {type(record_queue).__name__}, not a queue.Queue")
    record_queue.maxsize = size
    return size


# global_substream_cursor, colon_offset_state, read_start_bounded_state ------------------------------------------


def install_component_factory(source: Any) -> None:
    """Make the source's component factory a :class:`PersonioComponentFactory` (only its class changes: it was
    built by the CDK with the CDK's arguments and nothing has been built with it yet)."""
    require_attributes("global_substream_cursor", source, ("_constructor",), "ConcurrentDeclarativeSource")
    factory = source._constructor
    if type(factory) is PersonioComponentFactory:
        return
    if type(factory) is not _factory_class():
        raise CdkAdaptationError(
            "global_substream_cursor", "ConcurrentDeclarativeSource._constructor", f"is a {type(factory).__name__}, not a ModelToComponentFactory"
        )
    factory.__class__ = PersonioComponentFactory


def _factory_class() -> Any:
    return resolve(_FACTORY)


def _make_component_factory() -> Any:
    from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

    class PersonioComponentFactory(ModelToComponentFactory):  # type: ignore[misc,valid-type]
        """The CDK's component factory, whose cursors are this connector's replacements (see the table)."""

        def create_concurrent_cursor_from_perpartition_cursor(self, *args: Any, **kwargs: Any) -> Any:
            from source_personio.cursors import as_global_substream_cursor

            return as_global_substream_cursor(super().create_concurrent_cursor_from_perpartition_cursor(*args, **kwargs))

        def create_concurrent_cursor_from_datetime_based_cursor(self, *args: Any, **kwargs: Any) -> Any:
            from source_personio.cursors import as_read_start_bounded_cursor
            from source_personio.state_format import with_colon_offsets

            cursor = super().create_concurrent_cursor_from_datetime_based_cursor(*args, **kwargs)
            return as_read_start_bounded_cursor(with_colon_offsets(cursor))

        def create_parent_stream_config_with_substream_wrapper(self, *args: Any, **kwargs: Any) -> Any:
            # The CDK builds each parent stream with a component factory of its own (a plain one): its cursor
            # (freshly built, not yet read) is bounded here.
            from source_personio.cursors import as_read_start_bounded_cursor

            parent_config = super().create_parent_stream_config_with_substream_wrapper(*args, **kwargs)
            stream = getattr(parent_config, "stream", None)
            if stream is not None and hasattr(stream, "cursor"):
                as_read_start_bounded_cursor(stream.cursor)
            return parent_config

    return PersonioComponentFactory


PersonioComponentFactory: Any = _make_component_factory()


# catalog_schema_reuse --------------------------------------------------------------------------------------------


def reuse_catalog_schemas(streams: List[Any], catalog: Any) -> int:
    """Read with the schemas of the configured catalog where a stream's schema costs a request.

    Personio quirk: the employees schema is built from ``GET /v1/company/employees/attributes`` and each
    ``custom_report_<name>`` schema from the report's column list, and the CDK fetches them again at read to type
    the records. The catalog already holds the schema discovered for the connection -- the one the destination
    expects -- so that is used instead (one request less per such stream and sync). A catalog stream without
    ``properties`` keeps the discovered loader. Returns how many streams use their catalog schema.
    """
    from airbyte_cdk.sources.declarative.schema import DynamicSchemaLoader
    from airbyte_cdk.sources.declarative.schema.caching_schema_loader_decorator import CachingSchemaLoaderDecorator
    from airbyte_cdk.sources.streams.concurrent.default_stream import DefaultStream

    name = "catalog_schema_reuse"
    schemas = {c.stream.name: c.stream.json_schema for c in catalog.streams}
    reused = 0
    for stream in streams:
        schema = schemas.get(getattr(stream, "name", None))
        if not isinstance(schema, Mapping) or not schema.get("properties") or not isinstance(stream, DefaultStream):
            continue
        require_attributes(name, stream, ("_stream_partition_generator",), "DefaultStream")
        generator = stream._stream_partition_generator
        require_attributes(name, generator, ("_partition_factory",))
        require_attributes(name, generator._partition_factory, ("_schema_loader",))
        loader = generator._partition_factory._schema_loader
        if isinstance(loader, CachingSchemaLoaderDecorator):
            require_attributes(name, loader, ("_decorated",))
            if isinstance(loader._decorated, DynamicSchemaLoader):
                loader._loaded_schema = dict(schema)
                reused += 1
    return reused


# partitions_in_flight --------------------------------------------------------------------------------------------


def bound_partitions_in_flight(streams: List[Any], workers: int) -> int:
    """Give every stream of a read its own :class:`pacing.PartitionsInFlight` (a quarter of the workers, at least
    2). Returns how many streams were bounded (a stream already bounded is not wrapped twice)."""
    from source_personio.pacing import PartitionsInFlight

    limit = max(2, int(workers) // 4)
    bounded = 0
    for stream in streams:
        generate = getattr(stream, "generate_partitions", None)
        if not callable(generate):
            raise CdkAdaptationError("partitions_in_flight", f"{type(stream).__name__}.generate_partitions")
        if not getattr(generate, "_personio_in_flight", False):
            wrapped = PartitionsInFlight(limit).wrap(generate)
            wrapped._personio_in_flight = True  # type: ignore[attr-defined]
            stream.generate_partitions = wrapped
            bounded += 1
    return bounded


# memoized_environment_proxies ------------------------------------------------------------------------------------


def memoize_environment_proxies() -> None:
    """Look the proxy environment up once per scheme and host instead of on every request.

    Cost: ``requests`` asks the process environment for proxies before every request
    (``Session.merge_environment_settings`` -> ``get_environ_proxies``: a scan of every environment variable,
    several times over), ~0.1 ms each, ~3 % of a sync's CPU. A sync's environment does not change while it runs,
    so the answer per scheme and host does not either; ``*_proxy`` and ``no_proxy`` settings are honoured exactly
    as before.
    """
    import functools
    from urllib.parse import urlsplit

    import requests.sessions

    original: Callable[..., Any] = requests.sessions.get_environ_proxies
    if getattr(original, "memoized", False):
        return

    @functools.lru_cache(maxsize=256)
    def lookup(scheme: str, netloc: str, no_proxy: Optional[str]) -> Mapping[str, str]:
        return dict(original(f"{scheme}://{netloc}/", no_proxy=no_proxy))

    def get_environ_proxies(url: str, no_proxy: Optional[str] = None) -> Any:
        parts = urlsplit(url)
        return dict(lookup(parts.scheme, parts.netloc, no_proxy))

    get_environ_proxies.memoized = True  # type: ignore[attr-defined]
    requests.sessions.get_environ_proxies = get_environ_proxies
