"""personio_sandbox: a faithful, fast, fault-injectable Personio API server on loopback.

Modules:
  data     -- deterministic company generator (``generate_company(seed, employees)``)
  api      -- pure request -> response logic (used by the server and usable in unit tests)
  server   -- aiohttp server (auth, rate limits, faults, stats, control endpoints)
  testing  -- ``Sandbox`` context manager that runs the server as a subprocess (stdlib only)
  loadtest -- ``python -m personio_sandbox.loadtest``: generation time and requests/s
"""

BASE_DATE = "2026-11-01T00:00:00Z"
