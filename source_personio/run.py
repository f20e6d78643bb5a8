"""Console entry point ``source-personio`` (spec, check, discover, read)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, List, Mapping, Optional

import orjson

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    Status,
    TraceType,
    Type,
)
from airbyte_cdk.sources.source import Source
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.cdk_adaptations import install_process_adaptations
from source_personio.config import validate_config
from source_personio.source import SourcePersonio


def _print(message: AirbyteMessage) -> None:
    print(orjson.dumps(AirbyteMessageSerializer.dump(message)).decode(), flush=True)


def _trace(message: str, failure_type: FailureType = FailureType.config_error) -> AirbyteMessage:
    return AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=datetime.now(timezone.utc).timestamp() * 1000,
            error=AirbyteErrorTraceMessage(message=message, failure_type=failure_type),
        ),
    )


def _load_json(path: str, what: str) -> Any:
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise AirbyteTracedException(message=f"The {what} file {path} does not exist.", failure_type=FailureType.config_error)
    except (OSError, ValueError) as error:
        raise AirbyteTracedException(
            message=f"The {what} file {path} is not valid JSON ({type(error).__name__}).",
            failure_type=FailureType.config_error,
        )


def create_source(args: List[str]) -> SourcePersonio:
    """Read --config/--catalog/--state *before* constructing the source: the concurrent CDK
    builds its streams from the constructor's config, so passing them later would be ignored."""
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    config: Optional[Mapping[str, Any]] = None
    if config_path:
        config = _load_json(config_path, "config")
        if not isinstance(config, dict):
            raise AirbyteTracedException(message=f"The config file {config_path} must hold a JSON object.", failure_type=FailureType.config_error)
        validate_config(config)
    catalog = SourcePersonio.read_catalog(catalog_path) if catalog_path else None
    if state_path:
        _load_json(state_path, "state")
    try:
        state = SourcePersonio.read_state(state_path) if state_path else None
    except Exception as error:  # e.g. a legacy per-connector dict or a list of non-messages
        raise AirbyteTracedException(
            message=(
                f"The state file {state_path} is not Airbyte state for this connector ({type(error).__name__}). "
                "Reset the connection's state to sync from start_date again."
            ),
            failure_type=FailureType.config_error,
        ) from None
    return SourcePersonio(catalog=catalog, config=config, state=state)


# The interpreter's default switch interval (5 ms) makes a busy thread hand the GIL over every 5 ms
# to any thread that asked for it. With 16 workers that mostly wait for Personio (and release the
# GIL while they wait anyway), those forced handovers are contention: measured at 2,000 employees
# unthrottled, 50 ms cut the connector's CPU time by ~10 % (20 ms and 200 ms gained less). Paced syncs
# are not slowed by it as long as each stream keeps only a few partitions in flight (pacing.py
# PartitionsInFlight): measured 1.013x the rate-limit floor with 50 ms, 1.011x with 5 ms.
SWITCH_INTERVAL_S = 0.05


# glibc gives every thread that allocates its own malloc arena (up to 8 per core); the 16 worker threads
# then each keep freed memory of their own, ~35 MB of peak RSS (BENCHMARKS.md). Same as MALLOC_ARENA_MAX=2.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas before the worker threads start; False where there is no glibc (musl, macOS) or
    MALLOC_ARENA_MAX is set already (the user's setting wins)."""
    import ctypes
    import ctypes.util
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, int(arenas)))
    except (OSError, AttributeError):
        return False


def tune_process() -> None:
    """Process-wide settings for a sync process (not applied when the source is used as a library)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    limit_malloc_arenas()
    install_process_adaptations()


def run(args: Optional[List[str]] = None) -> None:
    tune_process()
    args = list(sys.argv[1:] if args is None else args)
    command = args[0] if args else ""
    try:
        source: Source = create_source(args)
    except AirbyteTracedException as error:
        if command == "check":
            _print(
                AirbyteMessage(
                    type=Type.CONNECTION_STATUS,
                    connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=error.message),
                )
            )
            return
        _print(_trace(error.message or str(error), error.failure_type or FailureType.config_error))
        sys.exit(1)
    except Exception as error:  # e.g. a catalog that is not a valid ConfiguredAirbyteCatalog
        _print(_trace(f"Could not start source-personio: {type(error).__name__}: {error}", FailureType.config_error))
        sys.exit(1)
    if "--debug" not in args:
        for handler in {*logging.getLogger().handlers, *logging.getLogger("airbyte").handlers}:
            handler.addFilter(_no_traceback_for_traced_errors)
    try:
        launch(source, args)
    except AirbyteTracedException as error:
        # The CDK's exception hook would first log this error again with a Python traceback; the
        # TRACE message (whose stack_trace field keeps it) is all a user needs to see.
        error.emit_message()
        sys.exit(1)


def _no_traceback_for_traced_errors(record: logging.LogRecord) -> bool:
    """Log lines about an AirbyteTracedException keep their text but drop the Python traceback:
    the error's TRACE message already carries it (stack_trace), and a user-facing log should not
    show one. ``--debug`` keeps them."""
    if record.exc_info and isinstance(record.exc_info[1], AirbyteTracedException):
        record.exc_info = None
        record.exc_text = None
    return True


if __name__ == "__main__":
    run()
