"""`make demo`: run source-personio end to end, loading one read into an embedded DuckDB file as it streams.

With PERSONIO_CLIENT_ID and PERSONIO_CLIENT_SECRET set (optionally PERSONIO_BASE_URL, PERSONIO_START_DATE),
the real Personio API is used and no sandbox is started. Otherwise the bundled Personio sandbox is started on
loopback: a small company (--employees, default 30) with Personio's documented rate limits on (--rate-limits
2x: v2 endpoints at twice that pace), so paging and pacing show in a demo of well under 90 s.

Steps, each printed with its outcome and how long it took:
  sandbox    start the bundled sandbox (skipped against real Personio)
  spec, check, discover   through the installed `source-personio` executable, exactly as Airbyte runs it
  read+load  ONE `source-personio read` of every stream (incremental where the stream supports it, so the
             saved state is a real cursor); its records are inserted into .demo/personio.duckdb in batches
             while the read runs: one table per stream, the last state per stream in `_airbyte_state`
             (and .demo/state.json, the form `source-personio read --state` takes)
  summary    records read vs DuckDB rows per stream; any difference is a warning and a non-zero exit.
Exits non-zero when a step fails. Secrets are never printed (the config file lives in a private temp dir).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

try:
    import orjson

    _loads, _dumps = orjson.loads, orjson.dumps
except ImportError:  # pragma: no cover - orjson is in the lock
    _loads = json.loads

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / ".demo"
DB_PATH = DEMO_DIR / "personio.duckdb"
STATE_PATH = DEMO_DIR / "state.json"

DEFAULT_EMPLOYEES = 30  # attendance (cursor pages of 100, one after the other) at 10/s: ~20 s of paced reading
# --rate-limits 2x: v2 endpoints at twice Personio's documented pace (the sandbox announces it in the
# x-ratelimit-* headers, which the connector's pacer follows); v1 stays at the documented figures, the
# connector never goes faster than those. Never "off": the read is paced and pages as against Personio.
DEMO_RATE_LIMITS: Dict[str, Any] = {"v2_default_per_s": 20, "v2": {"/v2/persons": 60, "/v2/absence-periods": 20}}
RATE_LIMIT_PROFILES: Dict[str, Any] = {"documented": "documented", "2x": DEMO_RATE_LIMITS}
PROGRESS_EVERY_S = 5.0
BATCH_RECORDS = 5000
EXTRACTED_AT = "_airbyte_extracted_at"
STATE_TABLE = "_airbyte_state"


class DemoError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- connector
def find_executable() -> Path:
    candidates = [Path(sys.executable).parent / "source-personio", ROOT / ".venv" / "bin" / "source-personio"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    found = shutil.which("source-personio")
    if found:
        return Path(found)
    raise DemoError("the `source-personio` executable is not installed: run `make setup` first")


# Run in the connector's interpreter: compile every package the connector imports (whole package
# directories, so modules imported later in a read are covered too), its own code and the sandbox's.
_COMPILE_SNIPPET = r"""
import compileall, os, sys, sysconfig
import source_personio.run
try:
    import personio_sandbox.server
except ImportError:
    pass
purelib = os.path.realpath(sysconfig.get_paths()["purelib"])
targets = set()
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if not path:
        continue
    path = os.path.realpath(path)
    if path.startswith(purelib + os.sep):
        targets.add(os.path.join(purelib, path[len(purelib) + 1:].split(os.sep)[0]))
    elif module.__name__.split(".")[0] in ("source_personio", "personio_sandbox"):
        targets.add(os.path.dirname(path))
ok = True
for target in sorted(targets):
    if os.path.isdir(target):
        ok = compileall.compile_dir(target, quiet=2, workers=os.cpu_count() or 1) and ok
    elif target.endswith(".py"):
        ok = compileall.compile_file(target, quiet=2) and ok
sys.exit(0 if ok else 1)
"""


def ensure_bytecode(exe: Path, out: Callable[[str], None] = print) -> Optional[float]:
    """Set-up, once per installation: write the .pyc files of the connector and its packages.

    `uv pip sync` (make setup) installs without compiling, and with PYTHONDONTWRITEBYTECODE set (as on
    the project's machines) every `source-personio` start would compile the CDK again (seconds of CPU
    for each of spec, check, discover and read). A stamp next to the venv's install stamp makes later
    runs skip this. Returns the seconds it took, None when it was already done."""
    python = exe.parent / "python"
    if not python.exists() or not (exe.parent.parent / "pyvenv.cfg").exists():
        return None  # not a virtualenv of ours: leave it alone
    stamp, installed = exe.parent.parent / ".demo-bytecode", exe.parent.parent / ".installed"
    if stamp.exists() and (not installed.exists() or stamp.stat().st_mtime >= installed.stat().st_mtime):
        return None
    started = time.monotonic()
    proc = subprocess.run([str(python), "-c", _COMPILE_SNIPPET], capture_output=True, timeout=900)
    if proc.returncode == 0:
        with contextlib.suppress(OSError):
            stamp.touch()
    seconds = time.monotonic() - started
    out(f"  {'set-up':<10} compiled the connector's bytecode once ({seconds:.1f}s, not part of the demo's time)"
        + ("" if proc.returncode == 0 else " - some files failed, continuing"))
    return seconds


def trace_errors(messages: List[dict]) -> List[str]:
    return [
        m["trace"]["error"].get("message", "")
        for m in messages
        if m.get("type") == "TRACE" and m.get("trace", {}).get("type") == "ERROR"
    ]


def run_connector(exe: Path, args: List[str]) -> List[dict]:
    """A short command (spec, check, discover): every JSON message it printed."""
    proc = subprocess.run([str(exe), *args], capture_output=True, timeout=600)
    messages = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith(b"{"):
            with contextlib.suppress(ValueError):
                messages.append(_loads(line))
    errors = trace_errors(messages)
    if proc.returncode != 0 or errors:
        stderr = proc.stderr.decode(errors="replace").strip()[-2000:]
        detail = "; ".join(errors) or stderr or f"exit code {proc.returncode}"
        raise DemoError(f"`source-personio {args[0]}` failed: {detail}")
    return messages


def of_type(messages: List[dict], kind: str) -> List[dict]:
    return [m for m in messages if m.get("type") == kind]


def configured_catalog(catalog: dict) -> dict:
    """Every stream; incremental (with its source-defined cursor) where supported, full refresh otherwise."""
    streams = []
    for stream in catalog["streams"]:
        incremental = "incremental" in stream.get("supported_sync_modes", [])
        entry = {
            "stream": stream,
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append_dedup" if incremental else "overwrite",
        }
        if incremental and stream.get("default_cursor_field"):
            entry["cursor_field"] = stream["default_cursor_field"]
        if stream.get("source_defined_primary_key"):
            entry["primary_key"] = stream["source_defined_primary_key"]
        streams.append(entry)
    return {"streams": streams}


# ---------------------------------------------------------------------------------------------- DuckDB
def column_type(schema: Any) -> str:
    """DuckDB type of a JSON-schema property: scalars typed, objects/arrays/unions kept as JSON."""
    if not isinstance(schema, Mapping):
        return "JSON"
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    types = [t for t in types if t != "null"]
    if len(types) != 1 or "anyOf" in schema or "oneOf" in schema:
        return "JSON"
    kind = types[0]
    if kind == "string":
        return {"date-time": "TIMESTAMPTZ", "date": "DATE"}.get(schema.get("format"), "VARCHAR")
    return {"integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}.get(kind, "JSON")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBLoader:
    """Inserts records into one table per stream in batches while the read runs (each batch: an NDJSON
    file that DuckDB's read_json parses with the table's column types). Keys a record has beyond its
    stream's schema become extra JSON columns, so no value is dropped."""

    def __init__(self, db_path: Path, schemas: Mapping[str, Mapping[str, Any]], batch_dir: Path,
                 batch_records: int = BATCH_RECORDS, warn: Callable[[str], None] = print):
        import duckdb

        self._duckdb = duckdb
        self.db_path, self.batch_dir, self.batch_records, self.warn = db_path, batch_dir, batch_records, warn
        for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
            if stale.exists():
                stale.unlink()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(db_path))
        self.columns: Dict[str, Dict[str, str]] = {}
        self._buffers: Dict[str, List[bytes]] = {}
        self._spec: Dict[str, str] = {}
        self.extra_columns: Dict[str, List[str]] = {}
        self.states: Dict[str, dict] = {}
        self.batches = 0
        self.insert_s = 0.0  # time spent writing batches (the read waits meanwhile)
        for stream, schema in schemas.items():
            self._create(stream, schema)

    def _create(self, stream: str, schema: Mapping[str, Any]) -> None:
        props = schema.get("properties") or {} if isinstance(schema, Mapping) else {}
        columns = {name: column_type(sub) for name, sub in props.items() if name != EXTRACTED_AT}
        ddl = ", ".join([f"{quote_ident(n)} {t}" for n, t in columns.items()] + [f"{quote_ident(EXTRACTED_AT)} TIMESTAMP"])
        self.con.execute(f"CREATE TABLE {quote_ident(stream)} ({ddl})")
        self.columns[stream] = columns
        self._buffers[stream] = []
        self._spec.pop(stream, None)

    def _add_columns(self, stream: str, names: List[str]) -> None:
        for name in sorted(names):
            self.con.execute(f"ALTER TABLE {quote_ident(stream)} ADD COLUMN {quote_ident(name)} JSON")
            self.columns[stream][name] = "JSON"
        self.extra_columns.setdefault(stream, []).extend(sorted(names))
        self._spec.pop(stream, None)

    def add(self, stream: str, data: dict, emitted_at: Optional[int]) -> None:
        columns = self.columns.get(stream)
        if columns is None:  # a stream outside the catalog: keep it anyway, every key as JSON
            self._create(stream, {})
            columns = self.columns[stream]
        extra = data.keys() - columns.keys()
        extra.discard(EXTRACTED_AT)
        if extra:
            self._flush(stream)  # earlier batches keep their columns; new ones start NULL for them
            self._add_columns(stream, list(extra))
        data[EXTRACTED_AT] = emitted_at
        buffer = self._buffers[stream]
        buffer.append(_dumps(data))
        if len(buffer) >= self.batch_records:
            self._flush(stream)

    def add_state(self, state: dict) -> None:
        """The last state per stream (or the global/legacy state): what a next incremental read starts from."""
        kind = state.get("type") or "LEGACY"
        if kind == "STREAM":
            key = state.get("stream", {}).get("stream_descriptor", {}).get("name", "")
        else:
            key = kind.lower()
        self.states[key] = state

    def _column_spec(self, stream: str) -> str:
        spec = self._spec.get(stream)
        if spec is None:
            items = [f"{quote_literal(n)}: {quote_literal(t)}" for n, t in self.columns[stream].items()]
            items.append(f"{quote_literal(EXTRACTED_AT)}: 'BIGINT'")
            spec = self._spec[stream] = "{" + ", ".join(items) + "}"
        return spec

    def _insert(self, stream: str, path: Path) -> None:
        self.con.execute(
            f"INSERT INTO {quote_ident(stream)} BY NAME SELECT * REPLACE "
            f"(epoch_ms({quote_ident(EXTRACTED_AT)}) AS {quote_ident(EXTRACTED_AT)}) "
            f"FROM read_json({quote_literal(str(path))}, format='newline_delimited', "
            f"columns={self._column_spec(stream)}, maximum_object_size=268435456)"
        )

    def _flush(self, stream: str) -> None:
        buffer = self._buffers.get(stream)
        if not buffer:
            return
        started = time.monotonic()
        path = self.batch_dir / "batch.ndjson"
        path.write_bytes(b"\n".join(buffer) + b"\n")
        try:
            self._insert(stream, path)
        except self._duckdb.Error as error:  # a value that does not fit its declared type: keep it as JSON
            typed = [n for n, t in self.columns[stream].items() if t not in ("JSON", "VARCHAR")]
            self.warn(
                f"WARNING: stream {stream}: a record did not fit the column types of its schema "
                f"({str(error).splitlines()[0][:200]}); its typed columns are stored as JSON instead"
            )
            for name in typed:
                self.con.execute(f"ALTER TABLE {quote_ident(stream)} ALTER {quote_ident(name)} TYPE JSON")
                self.columns[stream][name] = "JSON"
            self._spec.pop(stream, None)
            try:
                self._insert(stream, path)
            except self._duckdb.Error as second:  # the demo fails rather than drop rows
                first_line = str(second).splitlines()[0][:300]
                raise DemoError(f"DuckDB could not store a batch of stream {stream}: {first_line}") from None
        self.batches += 1
        buffer.clear()
        self.insert_s += time.monotonic() - started

    def finish(self, state_path: Optional[Path] = None) -> None:
        """Insert every buffered record, then the last states (they describe records that are all in now)."""
        for stream in list(self._buffers):
            self._flush(stream)
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (stream_name VARCHAR PRIMARY KEY, state_type VARCHAR, state JSON)"
        )
        for key, state in self.states.items():
            self.con.execute(
                f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?)",
                [key, state.get("type") or "LEGACY", json.dumps(state)],
            )
        if state_path is not None:
            state_path.write_text(json.dumps([{"type": "STATE", "state": s} for s in self.states.values()]))
        self.con.execute("CHECKPOINT")

    def row_counts(self) -> Dict[str, int]:
        return {
            stream: int(self.con.execute(f"SELECT count(*) FROM {quote_ident(stream)}").fetchone()[0])
            for stream in self.columns
        }

    def close(self) -> None:
        self.con.close()


# ---------------------------------------------------------------------------------------------- read
@dataclass
class ReadResult:
    counts: Dict[str, int]
    state_messages: int = 0
    warnings: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    returncode: int = 0
    first_record_s: Optional[float] = None  # connector start-up, auth and first page


def read_into_duckdb(exe: Path, config_path: Path, catalog_path: Path, loader: DuckDBLoader, streams: List[str],
                     log_path: Path, progress: Optional[Callable[[Dict[str, int]], None]] = None,
                     out: Callable[[str], None] = print) -> ReadResult:
    """ONE `source-personio read`; every record goes to the loader as its line arrives."""
    result = ReadResult(counts={name: 0 for name in streams})
    counts = result.counts
    stop = threading.Event()
    ticker = None
    if progress is not None:
        def tick() -> None:
            while not stop.wait(PROGRESS_EVERY_S):
                progress(dict(counts))

        ticker = threading.Thread(target=tick, name="demo-progress", daemon=True)
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(exe), "read", "--config", str(config_path), "--catalog", str(catalog_path)],
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
        )
        if ticker is not None:
            ticker.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if not line.startswith(b"{"):
                    continue
                try:
                    message = _loads(line)
                except ValueError:
                    continue
                kind = message.get("type")
                if kind == "RECORD":
                    record = message["record"]
                    stream = record["stream"]
                    if result.first_record_s is None:
                        result.first_record_s = time.monotonic() - started
                    counts[stream] = counts.get(stream, 0) + 1
                    loader.add(stream, record["data"], record.get("emitted_at"))
                elif kind == "STATE":
                    result.state_messages += 1
                    loader.add_state(message["state"])
                elif kind == "LOG":
                    log_message = message.get("log", {})
                    if log_message.get("level") in ("WARN", "ERROR", "FATAL"):
                        text = f"connector {log_message['level']}: {str(log_message.get('message', ''))[:300]}"
                        result.warnings.append(text)
                        if len(result.warnings) <= 5:
                            out(f"             {text}")
                elif kind == "TRACE":
                    result.errors.extend(trace_errors([message]))
        except BaseException:
            proc.kill()  # nobody reads its output any more
            raise
        finally:
            result.returncode = proc.wait()
            stop.set()
            if ticker is not None:
                ticker.join()
    return result


# ---------------------------------------------------------------------------------------------- pacing facts
def sandbox_rate_limits(profile: Any) -> dict:
    from personio_sandbox.server import DOCUMENTED

    limits = json.loads(json.dumps(DOCUMENTED))
    if isinstance(profile, Mapping):
        for key, value in profile.items():
            if key == "v2":
                limits["v2"].update(value)
            else:
                limits[key] = value
    return limits


def pacing_facts(stats: dict, limits: Mapping[str, Any]) -> dict:
    """Requests, 429s and the rate-limit floor (the least time the requests need at those limits)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_model import floor_seconds

    requests_by_endpoint = {k: int(v) for k, v in stats.get("requests", {}).items() if k.startswith("GET ")}
    floor, buckets = floor_seconds(requests_by_endpoint, limits)
    v1_total = sum(n for k, n in requests_by_endpoint.items() if k.startswith("GET /v1/"))

    def requests_of(bucket: str) -> int:
        if bucket == "v1 overall":
            return v1_total
        if bucket == "v1 employees":
            return requests_by_endpoint.get("GET /v1/company/employees", 0)
        return requests_by_endpoint.get("GET " + bucket.partition(" ")[2], 0)

    slowest = sorted(buckets.items(), key=lambda kv: -kv[1])[:3]
    return {
        "requests": int(stats.get("requests_total", sum(stats.get("requests", {}).values()))),
        "http_429": int(stats.get("statuses", {}).get("429", 0)),
        "floor_s": floor,
        "slowest": [(bucket, requests_of(bucket), rate_of(bucket, limits), seconds) for bucket, seconds in slowest],
        "requests_by_endpoint": requests_by_endpoint,
    }


def rate_of(bucket: str, limits: Mapping[str, Any]) -> str:
    kind, _, template = bucket.partition(" ")
    if kind == "v2":
        return f"{limits['v2'].get(template, limits['v2_default_per_s'])}/s"
    if bucket == "v1 employees":
        return f"{limits['v1_employees_per_min']}/min"
    return f"{limits['v1_overall_per_min']}/min"


# ---------------------------------------------------------------------------------------------- the demo
@dataclass
class DemoResult:
    read: ReadResult
    rows: Dict[str, int]
    columns: Dict[str, int]
    timings: Dict[str, float]
    pacing: Optional[dict] = None

    @property
    def lost(self) -> Dict[str, tuple]:
        """Streams whose DuckDB row count differs from the records read: {stream: (records, rows)}."""
        return {
            stream: (count, self.rows.get(stream, -1))
            for stream, count in self.read.counts.items()
            if self.rows.get(stream, -1) != count
        }


class Steps:
    """Prints `  name  outcome  (seconds)` per step and keeps the seconds."""

    def __init__(self, out: Callable[[str], None]):
        self.out, self.timings = out, {}

    @contextlib.contextmanager
    def step(self, name: str):
        started = time.monotonic()
        outcome: List[str] = []
        try:
            yield outcome
        except Exception:
            self.timings[name] = time.monotonic() - started
            self.out(f"  {name:<10} FAILED ({self.timings[name]:.1f}s)")
            raise
        self.timings[name] = time.monotonic() - started
        self.out(f"  {name:<10} {' '.join(outcome)} ({self.timings[name]:.1f}s)")


def run_demo(exe: Path, config: dict, workdir: Path, db_path: Path = DB_PATH, sandbox: Any = None,
             rate_limits: Any = None, steps: Optional[Steps] = None, out: Callable[[str], None] = print,
             state_path: Optional[Path] = None) -> DemoResult:
    """spec, check, discover, then one read loaded into DuckDB as it streams. ``sandbox`` (a running
    personio_sandbox.testing.Sandbox) adds request counts and the rate-limit floor to the output."""
    steps = steps or Steps(out)
    config_path = workdir / "config.json"
    config_path.touch(mode=0o600)
    config_path.write_text(json.dumps(config))

    with steps.step("spec") as outcome:
        spec = of_type(run_connector(exe, ["spec"]), "SPEC")
        if not spec:
            raise DemoError("`spec` printed no SPEC message")
        props = spec[0]["spec"]["connectionSpecification"].get("properties", {})
        outcome.append(f"ok - {len(props)} config fields")

    with steps.step("check") as outcome:
        status = of_type(run_connector(exe, ["check", "--config", str(config_path)]), "CONNECTION_STATUS")
        if not status or status[0]["connectionStatus"]["status"] != "SUCCEEDED":
            message = status[0]["connectionStatus"].get("message") if status else "no CONNECTION_STATUS message"
            raise DemoError(f"`check` failed: {message}")
        outcome.append("ok - credentials accepted")

    with steps.step("discover") as outcome:
        catalogs = of_type(run_connector(exe, ["discover", "--config", str(config_path)]), "CATALOG")
        if not catalogs:
            raise DemoError("`discover` printed no CATALOG message")
        catalog = catalogs[0]["catalog"]
        names = [s["name"] for s in catalog["streams"]]
        incremental = sum("incremental" in s.get("supported_sync_modes", []) for s in catalog["streams"])
        outcome.append(f"ok - {len(names)} streams ({incremental} incremental): {', '.join(names)}")

    catalog_path = workdir / "configured_catalog.json"
    catalog_path.write_text(json.dumps(configured_catalog(catalog)))
    if sandbox is not None:
        sandbox.reset_stats()  # count the read's requests only
    limits = sandbox_rate_limits(rate_limits) if sandbox is not None else None
    started = time.monotonic()

    def progress(counts: Dict[str, int]) -> None:
        line = f"  {'':<10} ... {time.monotonic() - started:4.0f}s: {sum(counts.values()):,} records"
        if sandbox is not None:
            with contextlib.suppress(Exception):
                stats = sandbox.stats()
                line += f", {stats.get('requests_total', 0):,} requests, {stats.get('statuses', {}).get('429', 0)} x 429"
        out(line)

    loader = None
    try:
        with steps.step("read+load") as outcome:
            schemas = {s["name"]: s.get("json_schema", {}) for s in catalog["streams"]}
            loader = DuckDBLoader(db_path, schemas, workdir, warn=out)
            read = None
            try:
                read = read_into_duckdb(exe, config_path, catalog_path, loader, names, workdir.parent / "read.log",
                                        progress=progress, out=out)
            finally:
                loader.finish(state_path)  # what was read before a failure is kept, with its state
            if read.returncode != 0 or read.errors:
                detail = "; ".join(read.errors) or f"exit code {read.returncode} (log: {workdir.parent / 'read.log'})"
                raise DemoError(f"`source-personio read` failed: {detail}")
            first = "no records" if read.first_record_s is None else f"first record after {read.first_record_s:.1f}s"
            outcome.append(
                f"ok - {sum(read.counts.values()):,} records into {db_path.name} in {loader.batches} batches "
                f"({loader.insert_s:.1f}s of inserts, {first}), {read.state_messages} state messages "
                f"({len(loader.states)} saved)"
            )
        pacing = None
        if sandbox is not None:
            pacing = pacing_facts(sandbox.stats(), limits)
            out(
                f"  {'pacing':<10} {pacing['requests']:,} requests, {pacing['http_429']} x 429; at these rate limits "
                f"they need >= {pacing['floor_s']:.1f}s (the read took {steps.timings['read+load']:.1f}s); slowest:"
            )
            for bucket, requests, rate, seconds in pacing["slowest"]:
                out(f"  {'':<10}   {bucket:<48} {requests:>6,} requests at {rate:>8}: >= {seconds:5.1f}s")
        with steps.step("summary") as outcome:
            rows = loader.row_counts()
            columns = {stream: len(cols) for stream, cols in loader.columns.items()}
            outcome.append(f"ok - {len(rows)} tables, {sum(rows.values()):,} rows")
    finally:
        if loader is not None:
            loader.close()
    return DemoResult(read=read, rows=rows, columns=columns, timings=dict(steps.timings), pacing=pacing)


def print_summary(result: DemoResult, db_path: Path, out: Callable[[str], None] = print) -> bool:
    """The per-stream table; returns False (after a warning) when DuckDB holds other row counts than were read."""
    streams = list(result.read.counts)
    width = max([len(s) for s in streams] + [6])
    out(f"\n{'stream':<{width}}  {'records':>8}  {'duckdb rows':>11}  {'columns':>7}")
    out(f"{'-' * width}  {'-' * 8}  {'-' * 11}  {'-' * 7}")
    for stream in streams:
        rows = result.rows.get(stream)
        out(f"{stream:<{width}}  {result.read.counts[stream]:>8,}  {'missing' if rows is None else f'{rows:,}':>11}  "
            f"{result.columns.get(stream, 0):>7}")
    out(f"{'total':<{width}}  {sum(result.read.counts.values()):>8,}  {sum(result.rows.get(s, 0) for s in streams):>11,}")
    lost = result.lost
    for stream, (records, rows) in lost.items():
        held = "no table" if rows < 0 else f"{rows:,} rows"
        out(f"WARNING: stream {stream}: {records:,} records read but {held} in DuckDB")
    return not lost


def shown(path: Path) -> str:
    """``path`` relative to the working directory when inside it (`make demo` runs in the checkout)."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    return str(path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=DEFAULT_EMPLOYEES,
                        help=f"sandbox company size (default {DEFAULT_EMPLOYEES})")
    parser.add_argument("--rate-limits", choices=sorted(RATE_LIMIT_PROFILES), default="documented",
                        help="sandbox rate limits: documented = Personio's figures (default); "
                             "2x = v2 endpoints at twice that pace, v1 as documented")
    args = parser.parse_args(argv)

    DEMO_DIR.mkdir(exist_ok=True)
    steps = Steps(print)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=DEMO_DIR))  # 0700: holds the config with the secret
    try:
        exe = find_executable()
        client_id, client_secret = os.environ.get("PERSONIO_CLIENT_ID"), os.environ.get("PERSONIO_CLIENT_SECRET")
        sandbox_cm: contextlib.AbstractContextManager = contextlib.nullcontext()
        rate_limits: Any = None
        if client_id and client_secret:
            config = {"client_id": client_id, "client_secret": client_secret}
            if os.environ.get("PERSONIO_BASE_URL"):
                config["base_url"] = os.environ["PERSONIO_BASE_URL"]
            if os.environ.get("PERSONIO_START_DATE"):
                config["start_date"] = os.environ["PERSONIO_START_DATE"]
            print(f"source-personio demo against the Personio API at {config.get('base_url', 'https://api.personio.de')} "
                  f"(credentials from PERSONIO_CLIENT_ID/PERSONIO_CLIENT_SECRET)")
        else:
            from personio_sandbox.testing import Sandbox

            rate_limits = RATE_LIMIT_PROFILES[args.rate_limits]
            described = ("Personio's documented figures" if args.rate_limits == "documented"
                         else "v2 at twice the documented pace, v1 as documented")
            print(f"source-personio demo against the bundled Personio sandbox: {args.employees} employees, "
                  f"rate limits on ({described})")
            sandbox_cm = Sandbox(employees=args.employees, rate_limits=rate_limits)
        print(f"Connector: {exe}")
        ensure_bytecode(exe)
        total_started = time.monotonic()
        with contextlib.ExitStack() as stack:
            sandbox = None
            if not (client_id and client_secret):
                with steps.step("sandbox") as outcome:
                    try:
                        sandbox = stack.enter_context(sandbox_cm)
                    except RuntimeError as error:  # personio_sandbox.testing: did not start (log tail inside)
                        raise DemoError(f"the bundled sandbox did not start: {error}") from None
                    config = sandbox.config()
                    outcome.append(f"ok - {sandbox.url} (pid {sandbox.pid})")
            result = run_demo(exe, config, workdir, DB_PATH, sandbox=sandbox, rate_limits=rate_limits,
                              steps=steps, state_path=STATE_PATH)
    except DemoError as exc:
        print(f"\nDemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the config file holds the secret

    complete = print_summary(result, DB_PATH)
    total = time.monotonic() - total_started
    per_step = ", ".join(f"{name} {seconds:.1f}" for name, seconds in result.timings.items())
    print(f"\nTook {total:.1f}s after set-up ({per_step})")
    rel = shown(DB_PATH)
    print(
        f"Open the data with the DuckDB CLI: duckdb {rel}   (then e.g. select * from employees limit 5;)\n"
        f"or in Python: .venv/bin/python -c \"import duckdb; con = duckdb.connect('{rel}', read_only=True); "
        f"con.sql('select * from employees limit 5').show()\"\n"
        f"Saved state: table {STATE_TABLE} and {shown(STATE_PATH)} (for `source-personio read --state`)"
    )
    if not complete:
        print("\nDemo failed: DuckDB does not hold every record that was read (see the warnings above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
