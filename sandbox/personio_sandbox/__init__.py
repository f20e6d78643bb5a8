"""personio_sandbox: a faithful, fast, fault-injectable Personio API server on loopback.

Modules (one concern each; none imports another that imports it back):
  clock, data     -- the sandbox clock; the deterministic company generator (``generate_company(seed, employees)``)
  model           -- facts derived from the data model that several resources share
  mutate, triggers -- data changes (create/update/delete), triggers at an exact request, churn while serving
  errors          -- Personio's error envelopes (v1, v2 problem+json, OAuth2, custom reports)
  auth            -- credentials, scopes, attribute whitelists
  context         -- the request context, query parsing, per-data-version caches
  paging, filters -- v1 offset/page-number envelopes and v2 cursors; shared v2 filters
  resources.*     -- one module per resource family: renderers (data model -> API shape) and handlers
  routes          -- the routing table (path template -> handler, API flavour, scope, list kind)
  api             -- ``render`` / ``dataset``: pure request -> response, usable in unit tests
  truth           -- ground truth from the data model (no handler, no paging)
  ratelimits, faults, tokens, responses, control, server -- the aiohttp server and its concerns
  testing         -- ``Sandbox`` context manager that runs the server as a subprocess (stdlib only)
  loadtest        -- ``python -m personio_sandbox.loadtest``: generation time and requests/s
"""

BASE_EPOCH = "2026-11-01T00:00:00Z"
