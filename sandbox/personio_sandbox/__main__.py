"""``python -m personio_sandbox``: run the Personio sandbox server."""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time

from aiohttp import web

from . import data as D
from .auth import credential_from
from .faults import Fault
from .server import ServerState, make_app
from .tenants import apply as apply_tenant, parse_tenant
from .triggers import parse_churn


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
    p.add_argument("--clock", default="real", choices=["real", "base"],
                   help="real: changes are stamped with the UTC wall clock; base: synthetic clock from 2026-11-01")
    p.add_argument("--churn", default=None,
                   help='change data while serving, e.g. "employees=update:5,create:1,delete:1;absences=update:3"')
    p.add_argument("--churn-every-requests", type=int, default=None, help="apply the churn mix every N API requests")
    p.add_argument("--churn-interval-s", type=float, default=None, help="apply the churn mix every S seconds")
    p.add_argument("--insert-at", default="random", choices=["random", "end"],
                   help="where created records land in list order (Personio does not document it)")
    p.add_argument("--v2-cursors", default="positional", choices=["positional", "keyset"],
                   help="what a v2 cursor means (Personio does not document it): an offset into the current list "
                        "(positional) or the position after the last records returned (keyset)")
    p.add_argument("--employment-touches-person", action="store_true",
                   help="employment changes also move the person's updated_at (not documented by Personio)")
    p.add_argument("--tenant", default="full",
                   help="tenant profile: full (default), small_business, narrow, shapes, or a comma-separated "
                        "combination (e.g. small_business,shapes)")
    p.add_argument("--log-file", default=None)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(filename=args.log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log = logging.getLogger("personio_sandbox")
    t0 = time.perf_counter()
    try:
        tenant = parse_tenant(args.tenant)
    except ValueError as e:
        raise SystemExit("personio-sandbox: bad --tenant: %s" % e)
    company = D.generate_company(args.seed, args.employees)
    apply_tenant(company, tenant)
    company.clock_mode = args.clock
    company.options.update(insert_at=args.insert_at, employment_touches_person=args.employment_touches_person,
                           v2_cursors=args.v2_cursors)
    log.info("generated company seed=%s employees=%s in %.2fs", args.seed, args.employees, time.perf_counter() - t0)
    creds = [tenant.default_credential(args.client_id, args.client_secret)]
    creds += [credential_from(c) for c in args.credential]
    rl = args.rate_limits
    if args.rate_limit_config:
        rl = args.rate_limit_config
    for f in args.fault:
        Fault.parse(f)  # validate early
    if (args.churn_every_requests or args.churn_interval_s) and not args.churn:
        raise SystemExit("personio-sandbox: --churn-every-requests/--churn-interval-s need --churn")
    if args.churn:
        try:
            parse_churn(args.churn)
        except ValueError as e:
            raise SystemExit("personio-sandbox: bad --churn: %s" % e)
    sb = ServerState(company, creds, args.token_ttl, rl, args.fault, args.relative_attendance_links, args.seed,
                 strict_booleans=args.spec_strict_booleans, churn=args.churn,
                 churn_every_requests=args.churn_every_requests, churn_interval_s=args.churn_interval_s)
    app = make_app(sb)

    async def run():
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print("personio-sandbox listening on http://%s:%d" % (args.host, port), flush=True)
        ticker = asyncio.create_task(sb.changer.run_interval())  # interval churn (idle unless configured)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        await stop.wait()
        ticker.cancel()
        await runner.cleanup()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
