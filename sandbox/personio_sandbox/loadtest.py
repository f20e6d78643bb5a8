"""Measure the sandbox: company generation time and served requests/s of 100-record pages.

    python -m personio_sandbox.loadtest [--employees 10000] [--seconds 10] [--concurrency 32]

Starts the sandbox (rate limits off) on 127.0.0.1 as a subprocess, authenticates, warms a fixed set
of 100-record pages (v1 employees, v1 time-offs, v2 attendance periods, v2 absence periods), then
requests them from a bounded aiohttp client for a fixed time and prints one JSON line.
Load targets 127.0.0.1 only; the run is bounded by --seconds and --max-requests.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp

from .data import generate_company
from .testing import Sandbox


async def _run(url: str, cid: str, secret: str, seconds: float, concurrency: int, max_requests: int,
               pages: int) -> dict:
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as s:
        async with s.post(url + "/v1/auth", json={"client_id": cid, "client_secret": secret}) as r:
            v1 = (await r.json())["data"]["token"]
        async with s.post(url + "/v2/auth/token", data={"grant_type": "client_credentials", "client_id": cid,
                                                        "client_secret": secret}) as r:
            v2 = (await r.json())["access_token"]
        targets = []
        for i in range(pages):
            targets.append(("/v1/company/employees?limit=100&offset=%d" % (i * 100), v1))
            targets.append(("/v1/company/time-offs?limit=100&offset=%d" % (i + 1), v1))
        # v2: follow cursors to collect real page URLs
        for path in ("/v2/attendance-periods?limit=100", "/v2/absence-periods?limit=100"):
            nxt = url + path
            for _ in range(pages):
                targets.append((nxt[len(url):], v2))
                async with s.get(nxt, headers={"Authorization": "Bearer " + v2}) as r:
                    body = await r.json()
                n = body["_meta"]["links"].get("next")
                if not n:
                    break
                nxt = n["href"]
        # warm-up (fills the page cache)
        t_warm = time.perf_counter()
        for p, tok in targets:
            async with s.get(url + p, headers={"Authorization": "Bearer " + tok}) as r:
                await r.read()
                assert r.status == 200, (p, r.status)
        warm = time.perf_counter() - t_warm
        done = 0
        errors = 0
        nbytes = 0
        stop_at = time.perf_counter() + seconds

        async def worker(k: int):
            nonlocal done, errors, nbytes
            i = k
            while time.perf_counter() < stop_at and done < max_requests:
                p, tok = targets[i % len(targets)]
                i += concurrency
                async with s.get(url + p, headers={"Authorization": "Bearer " + tok}) as r:
                    b = await r.read()
                    nbytes += len(b)
                    if r.status != 200:
                        errors += 1
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        el = time.perf_counter() - t0
        return {"requests": done, "errors": errors, "seconds": round(el, 2), "requests_per_s": round(done / el, 1),
                "mb_per_s": round(nbytes / el / 1e6, 1), "avg_body_kb": round(nbytes / max(done, 1) / 1024, 1),
                "distinct_pages": len(targets), "cold_page_s": round(warm / len(targets), 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m personio_sandbox.loadtest")
    ap.add_argument("--employees", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--max-requests", type=int, default=200000)
    ap.add_argument("--pages", type=int, default=20)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    company = generate_company(a.seed, a.employees)
    gen_s = time.perf_counter() - t0
    counts = company.record_counts()
    del company
    t1 = time.perf_counter()
    with Sandbox(employees=a.employees, seed=a.seed, rate_limits="off") as sb:
        start_s = time.perf_counter() - t1
        res = asyncio.run(_run(sb.url, sb.client_id, sb.client_secret, a.seconds, a.concurrency, a.max_requests,
                               a.pages))
    out = {"employees": a.employees, "attendance_periods": counts["attendance_periods"],
           "absences": counts["absences"], "generation_s": round(gen_s, 2), "server_startup_s": round(start_s, 2)}
    out.update(res)
    print("generation: %d employees, %d attendance periods, %d absences in %.2f s" % (
        a.employees, counts["attendance_periods"], counts["absences"], gen_s))
    print("served: %.0f requests/s of 100-record pages (%d requests in %.1f s, %d errors, %.1f MB/s)" % (
        res["requests_per_s"], res["requests"], res["seconds"], res["errors"], res["mb_per_s"]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
