"""`make demo`: run source-personio end to end and load everything into an embedded DuckDB file.

With PERSONIO_CLIENT_ID and PERSONIO_CLIENT_SECRET set (optionally PERSONIO_BASE_URL, PERSONIO_START_DATE),
the real Personio API is used. Otherwise the bundled Personio sandbox is started on loopback (200 employees).

Steps, each printed with its outcome:
  1. spec      2. check      3. discover      4. read of every stream (full refresh)
     - all through the installed `source-personio` executable, exactly as Airbyte runs it;
  5. load every stream with PyAirbyte into .demo/personio.duckdb and print a per-stream summary.
Exits non-zero when a step fails. Secrets are never printed.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / ".demo"
DB_PATH = DEMO_DIR / "personio.duckdb"

# PyAirbyte: no telemetry, no registry look-ups, plain (quiet) progress, its files under .demo/.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("NO_LIVE_PROGRESS", "1")
os.environ.setdefault("AIRBYTE_PROJECT_DIR", str(DEMO_DIR / "pyairbyte"))
os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(DEMO_DIR / "pyairbyte" / "logs"))


class DemoError(Exception):
    pass


def find_executable() -> Path:
    candidates = [Path(sys.executable).parent / "source-personio", ROOT / ".venv" / "bin" / "source-personio"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    found = shutil.which("source-personio")
    if found:
        return Path(found)
    raise DemoError("the `source-personio` executable is not installed: run `make setup` first")


def step(name: str):
    """Print `name ...` then the outcome line of the wrapped block."""

    @contextlib.contextmanager
    def _step():
        print(f"  {name:<10}", end=" ", flush=True)
        started = time.monotonic()
        try:
            yield
        except Exception:
            print("FAILED")
            raise
        print(f"({time.monotonic() - started:.1f}s)")

    return _step()


def run_connector(exe: Path, args: list[str]) -> list[dict]:
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=1800)
    messages = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                messages.append(json.loads(line))
    errors = [
        m["trace"]["error"]["message"]
        for m in messages
        if m.get("type") == "TRACE" and m.get("trace", {}).get("type") == "ERROR"
    ]
    if proc.returncode != 0 or errors:
        detail = "; ".join(errors) or proc.stderr.strip()[-2000:] or f"exit code {proc.returncode}"
        raise DemoError(f"`source-personio {args[0]}` failed: {detail}")
    return messages


def of_type(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m.get("type") == kind]


def configured_catalog(catalog: dict) -> dict:
    return {
        "streams": [
            {
                "stream": stream,
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
                **({"primary_key": stream["source_defined_primary_key"]} if stream.get("source_defined_primary_key") else {}),
            }
            for stream in catalog["streams"]
        ]
    }


def run_protocol_steps(exe: Path, config: dict, workdir: Path) -> dict[str, int]:
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    config_path.chmod(0o600)

    with step("spec"):
        spec = of_type(run_connector(exe, ["spec"]), "SPEC")
        if not spec:
            raise DemoError("`spec` printed no SPEC message")
        props = spec[0]["spec"]["connectionSpecification"].get("properties", {})
        print(f"ok - {len(props)} config fields", end=" ")

    with step("check"):
        status = of_type(run_connector(exe, ["check", "--config", str(config_path)]), "CONNECTION_STATUS")
        if not status or status[0]["connectionStatus"]["status"] != "SUCCEEDED":
            message = status[0]["connectionStatus"].get("message") if status else "no CONNECTION_STATUS message"
            raise DemoError(f"`check` failed: {message}")
        print("ok - credentials accepted", end=" ")

    with step("discover"):
        catalogs = of_type(run_connector(exe, ["discover", "--config", str(config_path)]), "CATALOG")
        if not catalogs:
            raise DemoError("`discover` printed no CATALOG message")
        catalog = catalogs[0]["catalog"]
        names = [s["name"] for s in catalog["streams"]]
        print(f"ok - {len(names)} streams: {', '.join(names)}", end=" ")

    with step("read"):
        catalog_path = workdir / "configured_catalog.json"
        catalog_path.write_text(json.dumps(configured_catalog(catalog)))
        messages = run_connector(exe, ["read", "--config", str(config_path), "--catalog", str(catalog_path)])
        counts = {name: 0 for name in names}
        for record in of_type(messages, "RECORD"):
            counts[record["record"]["stream"]] = counts.get(record["record"]["stream"], 0) + 1
        print(f"ok - {sum(counts.values())} records, {len(of_type(messages, 'STATE'))} state messages", end=" ")
    return counts


def load_with_pyairbyte(exe: Path, config: dict, log_path: Path) -> dict[str, tuple[int, int]]:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)  # google-* packages' Python EOL notices
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import airbyte as ab
    from airbyte.caches import DuckDBCache

    with step("duckdb"):
        if DB_PATH.exists():
            DB_PATH.unlink()
        with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            try:
                source = ab.get_source("source-personio", local_executable=exe, config=config)
                source.select_all_streams()
                cache = DuckDBCache(db_path=DB_PATH, schema_name="main")
                source.read(cache=cache, force_full_refresh=True)
                loaded = table_facts(cache)
            except Exception as exc:  # PyAirbyte wraps the connector's error; keep the log for details
                raise DemoError(f"PyAirbyte load failed: {type(exc).__name__}: {exc} (log: {log_path})") from None
        print(f"ok - {DB_PATH.relative_to(ROOT)}", end=" ")
    return loaded


def table_facts(cache) -> dict[str, tuple[int, int]]:
    """{stream: (rows, data columns)} of every table PyAirbyte wrote, through its own connection."""
    from sqlalchemy import text

    facts = {}
    with cache.get_sql_engine().connect() as conn:
        for stream in cache.streams:
            table = cache[stream].to_sql_table()
            rows = conn.execute(text(f'select count(*) from {table.schema}."{table.name}"')).scalar()
            columns = [c.name for c in table.columns if not c.name.startswith("_airbyte_")]
            facts[stream] = (int(rows), len(columns))
    return facts


def summarize(read_counts: dict[str, int], loaded: dict[str, tuple[int, int]]) -> list[tuple[str, int, int, int]]:
    return [(stream, count, *loaded.get(stream, (-1, 0))) for stream, count in read_counts.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=200, help="sandbox size (default 200)")
    args = parser.parse_args()

    DEMO_DIR.mkdir(exist_ok=True)
    exe = find_executable()
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=DEMO_DIR))
    sandbox_cm: contextlib.AbstractContextManager = contextlib.nullcontext()
    try:
        client_id, client_secret = os.environ.get("PERSONIO_CLIENT_ID"), os.environ.get("PERSONIO_CLIENT_SECRET")
        if client_id and client_secret:
            config = {"client_id": client_id, "client_secret": client_secret}
            if os.environ.get("PERSONIO_BASE_URL"):
                config["base_url"] = os.environ["PERSONIO_BASE_URL"]
            if os.environ.get("PERSONIO_START_DATE"):
                config["start_date"] = os.environ["PERSONIO_START_DATE"]
            print(f"Using the Personio API at {config.get('base_url', 'https://api.personio.de')} (credentials from env)")
        else:
            from personio_sandbox.testing import Sandbox

            sandbox_cm = Sandbox(employees=args.employees, rate_limits="off")
        with sandbox_cm as sandbox:
            if sandbox is not None:
                config = sandbox.config()
                print(f"Started the bundled Personio sandbox at {sandbox.url} (pid {sandbox.pid}, {args.employees} employees)")
            print(f"Connector: {exe}")
            read_counts = run_protocol_steps(exe, config, workdir)
            loaded = load_with_pyairbyte(exe, config, DEMO_DIR / "pyairbyte.log")
        if sandbox is not None:
            print(f"Stopped the sandbox (pid {sandbox.pid})")
    except DemoError as exc:
        print(f"\nDemo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the config file holds the secret

    rows = summarize(read_counts, loaded)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'stream':<{width}}  {'records':>8}  {'in duckdb':>9}  {'columns':>7}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 9}  {'-' * 7}")
    for stream, read_count, loaded, columns in rows:
        print(f"{stream:<{width}}  {read_count:>8}  {loaded if loaded >= 0 else 'missing':>9}  {columns:>7}")
    missing = [r[0] for r in rows if r[2] < 0 or (r[1] > 0 and r[2] == 0)]
    if missing:
        print(f"\nDemo failed: streams read but not loaded into DuckDB: {', '.join(missing)}", file=sys.stderr)
        return 1
    rel = DB_PATH.relative_to(ROOT)
    print(
        f"\nOpen the data with the DuckDB CLI: duckdb {rel}   (then e.g. select * from employees limit 5;)\n"
        f"or in Python: .venv/bin/python -c \"import duckdb; con = duckdb.connect('{rel}', read_only=True); "
        f"con.sql('select * from employees limit 5').show()\""
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
