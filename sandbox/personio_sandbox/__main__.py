"""``python -m personio_sandbox``: run the Personio sandbox server."""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time

from aiohttp import web

from . import data as D
from .api import Credential, V2_SCOPES
from .server import Fault, Sandbox, credential_from, make_app


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="personio-sandbox", description="Personio API sandbox on loopback")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--employees", type=int, default=100)
    p.add_argument("--rate-limits", default="documented", choices=["documented", "off"])
    p.add_argument("--rate-limit-config", default=None, help="JSON file or inline JSON with custom numbers")
    p.add_argument("--fault", action="append", default=[], help="kind=...,path=...,rate=...,count=...,after=...")
    p.add_argument("--client-id", default="sandbox-client-id")
    p.add_argument("--client-secret", default="sandbox-client-secret")
    p.add_argument("--credential", action="append", default=[], help='{"client_id","client_secret","scopes","attributes"}')
    p.add_argument("--token-ttl", type=int, default=86400)
    p.add_argument("--relative-attendance-links", action="store_true")
    p.add_argument("--spec-strict-booleans", action="store_true",
                   help="serve time-off half_day_start/half_day_end as booleans (the official schema) instead of "
                        "the 0/1 integers the real API sends")
    p.add_argument("--log-file", default=None)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(filename=args.log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log = logging.getLogger("personio_sandbox")
    t0 = time.perf_counter()
    company = D.generate_company(args.seed, args.employees)
    log.info("generated company seed=%s employees=%s in %.2fs", args.seed, args.employees, time.perf_counter() - t0)
    creds = [Credential(args.client_id, args.client_secret)]
    creds += [credential_from(c) for c in args.credential]
    rl = args.rate_limits
    if args.rate_limit_config:
        rl = args.rate_limit_config
    for f in args.fault:
        Fault.parse(f)  # validate early
    sb = Sandbox(company, creds, args.token_ttl, rl, args.fault, args.relative_attendance_links, args.seed,
                 strict_booleans=args.spec_strict_booleans)
    app = make_app(sb)

    async def run():
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print("personio-sandbox listening on http://%s:%d" % (args.host, port), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
