"""`make bench`: full + incremental sync of every stream against the sandbox, at company scale.

    python scripts/bench.py [--employees 2000] [--rate-limits documented|off] [--skip-throttled]
                            [--skip-unthrottled] [--start-date 2026-10-18] [--num-workers N]

Runs, each through the installed ``source-personio`` executable in a subprocess (as Airbyte does):
  1. full sync of all discovered streams at the rate-limit profile (documented by default);
  2. incremental sync with the final state of 1 (no data changes in between);
  3. the same full sync with rate limits off (throughput).
The sandbox's rate-limit state is reset before each run (a real sync does not start inside another
sync's window). Peak RSS is the connector process and its children, sampled every 20 ms.
Prints a table, then one JSON line (the last line of output). See BENCHMARKS.md.

start_date: the sandbox's attendance covers the year before 2026-11-01 (~690 periods per employee),
so a first sync from 2000-01-01 reads ~1.4 M attendance periods for 2,000 employees. The default start_date 2026-10-18 keeps attendances and absences to two weeks of updates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import orjson
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from bench_model import Model, floor_seconds, incremental_min_requests, min_requests  # noqa: E402
from personio_sandbox import data as D  # noqa: E402
from personio_sandbox.testing import Sandbox  # noqa: E402


def executable() -> str:
    for candidate in (Path(sys.executable).parent / "source-personio", ROOT / ".venv" / "bin" / "source-personio"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("source-personio")
    if not found:
        sys.exit("source-personio is not installed: run `make setup`")
    return found


class Run:
    """One `source-personio read` subprocess: records per stream, final states, wall time, peak RSS."""

    def __init__(self, args: List[str], workdir: Path, label: str):
        self.args, self.workdir, self.label = args, workdir, label
        self.records: Dict[str, int] = {}
        self.states: Dict[str, Any] = {}
        self.errors: List[str] = []
        self.peak_rss = 0
        self.wall_s = 0.0
        self.returncode: Optional[int] = None

    def _sample(self, proc: psutil.Process, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                rss = proc.memory_info().rss
                for child in proc.children(recursive=True):
                    try:
                        rss += child.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak_rss = max(self.peak_rss, rss)
            except psutil.Error:
                return
            stop.wait(0.02)

    def execute(self) -> "Run":
        stderr_path = self.workdir / f"{self.label}.stderr"
        started = time.monotonic()
        with open(stderr_path, "wb") as stderr:
            popen = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 20)
            stop = threading.Event()
            sampler = threading.Thread(target=self._sample, args=(psutil.Process(popen.pid), stop), daemon=True)
            sampler.start()
            try:
                self._consume(popen)
            finally:
                if popen.poll() is None:
                    popen.kill()
                self.returncode = popen.wait()
                self.wall_s = time.monotonic() - started
                stop.set()
                sampler.join()
        if self.returncode != 0 or self.errors:
            tail = stderr_path.read_text(errors="replace")[-1500:]
            raise SystemExit(f"{self.label}: source-personio exited {self.returncode}; errors {self.errors[:3]}\n{tail}")
        return self

    def _consume(self, popen: subprocess.Popen) -> None:
            records = self.records
            for line in popen.stdout:
                if line.startswith(b'{"type":"RECORD"'):
                    # the stream name sits in a fixed place; full parsing would slow the reader down
                    start = line.index(b'"stream":"') + 10
                    name = line[start : line.index(b'"', start)].decode()
                    records[name] = records.get(name, 0) + 1
                elif line.startswith(b'{"type":"STATE"'):
                    state = orjson.loads(line)["state"]
                    if state.get("type") == "STREAM":
                        self.states[state["stream"]["stream_descriptor"]["name"]] = state
                    else:
                        self.states["__global__"] = state
                elif line.startswith(b'{"type":"TRACE"') and b'"ERROR"' in line[:80]:
                    self.errors.append(orjson.loads(line)["trace"]["error"].get("message", ""))
            popen.wait()

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


def compile_bytecode() -> None:
    """Write .pyc files for the connector and its packages first (a pip-installed image has them):
    with PYTHONDONTWRITEBYTECODE set, every run would otherwise compile the CDK afresh (~1 s CPU)."""
    import compileall
    import sysconfig

    for directory in (sysconfig.get_paths()["purelib"], str(ROOT / "source_personio")):
        compileall.compile_dir(directory, quiet=2, workers=os.cpu_count() or 1)


def discover_catalog(exe: str, config_path: Path, workdir: Path) -> Dict[str, Any]:
    out = subprocess.run([exe, "discover", "--config", str(config_path)], capture_output=True, check=True)
    catalog = None
    for line in out.stdout.splitlines():
        if line.startswith(b'{"type":"CATALOG"'):
            catalog = orjson.loads(line)["catalog"]
    if catalog is None:
        raise SystemExit(f"discover returned no catalog: {out.stdout[-500:]!r} {out.stderr[-1500:]!r}")
    streams = []
    for stream in catalog["streams"]:
        incremental = "incremental" in stream.get("supported_sync_modes", [])
        streams.append(
            {
                "stream": stream,
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append_dedup" if incremental else "overwrite",
                **({"cursor_field": stream["default_cursor_field"]} if incremental and stream.get("default_cursor_field") else {}),
                **({"primary_key": stream["source_defined_primary_key"]} if stream.get("source_defined_primary_key") else {}),
            }
        )
    configured = {"streams": streams}
    (workdir / "catalog.json").write_text(json.dumps(configured))
    return configured


def sync(sb: Sandbox, exe: str, workdir: Path, label: str, profile: str, state: Optional[Dict[str, Any]] = None):
    sb.set_rate_limits(profile)  # also forgets the previous run's windows and buckets
    sb.reset_stats()
    config = json.loads((workdir / "config.json").read_text())
    config["pace_requests"] = profile != "off"  # unthrottled: measure the connector, not the pacer
    (workdir / f"config-{label}.json").write_text(json.dumps(config))
    args = [exe, "read", "--config", str(workdir / f"config-{label}.json"), "--catalog", str(workdir / "catalog.json")]
    if state is not None:
        (workdir / "state.json").write_text(json.dumps(list(state.values())))
        args += ["--state", str(workdir / "state.json")]
    run = Run(args, workdir, label).execute()
    return run, sb.stats()


def gets(stats: Dict[str, Any]) -> Dict[str, int]:
    return {k: v for k, v in stats["requests"].items() if not k.startswith("GET /_sandbox")}


def machine() -> Dict[str, Any]:
    mem = psutil.virtual_memory().total
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def _terminate(signum, frame):  # SIGTERM: unwind so the sandbox and the connector are stopped
    raise SystemExit(128 + signum)


def main(argv: Optional[List[str]] = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate-limits", choices=("documented", "off"), default="documented")
    parser.add_argument("--start-date", default="2026-10-18")
    parser.add_argument("--num-workers", type=int, default=None, help="connector num_workers (default: the connector's)")
    parser.add_argument("--skip-throttled", action="store_true", help="only the unthrottled full sync")
    parser.add_argument("--skip-unthrottled", action="store_true")
    parser.add_argument("--skip-incremental", action="store_true", help="no incremental sync after the full one")
    parser.add_argument("--workdir", default=str(ROOT / ".bench"))
    args = parser.parse_args(argv)

    exe = executable()
    compile_bytecode()
    workdir = Path(args.workdir) / f"e{args.employees}"
    workdir.mkdir(parents=True, exist_ok=True)
    result: Dict[str, Any] = {"employees": args.employees, "rate_limits": args.rate_limits, "start_date": args.start_date}
    rows: List[tuple] = []

    print(f"bench: sandbox with {args.employees} employees (seed {args.seed}), start_date {args.start_date}", flush=True)
    with Sandbox(employees=args.employees, seed=args.seed, rate_limits="off", startup_timeout=300) as sb:
        config = sb.config(start_date=args.start_date)
        if args.num_workers:
            config["num_workers"] = args.num_workers
        (workdir / "config.json").write_text(json.dumps(config))
        catalog = discover_catalog(exe, workdir / "config.json", workdir)
        names = [s["stream"]["name"] for s in catalog["streams"]]
        incremental_streams = [s["stream"]["name"] for s in catalog["streams"] if s["sync_mode"] == "incremental"]
        print(f"bench: {len(names)} streams ({len(incremental_streams)} incremental): {', '.join(names)}", flush=True)
        # the ground truth for the request model (only the throttled runs use it; at 50,000 employees building it
        # takes a minute and ~2 GB in this process)
        model = None if args.skip_throttled else Model(D.generate_company(args.seed, args.employees), args.start_date)

        full = None
        if not args.skip_throttled:
            print(f"bench: full sync, rate limits {args.rate_limits} ...", flush=True)
            full, stats = sync(sb, exe, workdir, "full", args.rate_limits)
            requested = gets(stats)
            minimal, unmodelled = min_requests(model, requested)
            floor_s, buckets = floor_seconds(minimal)
            requests = sum(requested.values())
            http_429 = stats["statuses"].get("429", 0)
            result.update(
                records=full.total_records,
                requests=requests,
                min_requests=sum(minimal.values()),
                wall_s=round(full.wall_s, 2),
                floor_s=round(floor_s, 2),
                floor_ratio=round(full.wall_s / floor_s, 3) if floor_s and args.rate_limits != "off" else None,
                http_429=http_429,
                http_429_pct=round(100.0 * http_429 / max(1, requests), 3),
                requests_over_min=round(requests / max(1, sum(minimal.values())), 4),
            )
            if unmodelled:
                result["unmodelled_endpoints"] = unmodelled
            throttled = {k.split(" ", 1)[1]: n for k, n in (stats.get("errors") or {}).items() if k.startswith("429 ")}
            if throttled:
                result["http_429_by_endpoint"] = throttled
            for key in sorted(requested):
                rows.append(("full", key, requested[key], minimal.get(key, ""), ""))
            for name in sorted(full.records):
                rows.append(("full", f"records {name}", full.records[name], "", ""))
            for bucket, seconds in sorted(buckets.items()):
                rows.append(("floor", bucket, "", "", f"{seconds:.1f} s"))

        if not args.skip_throttled and not args.skip_incremental:
            print("bench: incremental sync with the final state, no changes ...", flush=True)
            inc, inc_stats = sync(sb, exe, workdir, "incremental", args.rate_limits, full.states)
            inc_requested = gets(inc_stats)
            budget = incremental_min_requests(
                model,
                {s["stream"]["name"]: s["sync_mode"] for s in catalog["streams"]},
                minimal,
                full.states,
                dt.datetime.now(dt.timezone.utc).date().isoformat(),
            )
            result.update(
                incremental_requests=sum(inc_requested.values()),
                incremental_min_requests=sum(budget.values()),
                incremental_records=inc.total_records,
                incremental_wall_s=round(inc.wall_s, 2),
                incremental_http_429=inc_stats["statuses"].get("429", 0),
            )
            for key in sorted(inc_requested):
                rows.append(("incremental", key, inc_requested[key], "", ""))
            for key, n in budget.items():
                rows.append(("inc. budget", key, "", n, ""))

        if not args.skip_unthrottled:
            print("bench: full sync, rate limits off ...", flush=True)
            fast, fast_stats = sync(sb, exe, workdir, "unthrottled", "off")
            result.update(
                records_unthrottled=fast.total_records,
                wall_s_unthrottled=round(fast.wall_s, 2),
                requests_unthrottled=sum(gets(fast_stats).values()),
                records_per_s_unthrottled=round(fast.total_records / fast.wall_s, 1),
            )
            if full is None:
                result["records"] = fast.total_records
        peaks = [r.peak_rss for r in (full, fast if not args.skip_unthrottled else None) if r is not None]
        result["peak_rss_mb"] = round(max(peaks) / 2**20, 1) if peaks else None
        if full is not None:
            result["peak_rss_mb_throttled"] = round(full.peak_rss / 2**20, 1)
        if not args.skip_unthrottled:
            result["peak_rss_mb_unthrottled"] = round(fast.peak_rss / 2**20, 1)

    result["machine"] = machine()
    print()
    print(f"{'run':<12} {'what':<62} {'n':>9} {'min':>7} {'time':>9}")
    for run, what, n, minimal, seconds in rows:
        print(f"{run:<12} {what:<62} {n!s:>9} {minimal!s:>7} {seconds:>9}")
    print()
    for key, value in result.items():
        if key != "machine":
            print(f"{key:<28} {value}")
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
