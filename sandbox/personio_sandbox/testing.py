"""Run the sandbox as a subprocess for tests (stdlib only).

    from personio_sandbox.testing import Sandbox
    with Sandbox(employees=50, seed=1, rate_limits="off") as sb:
        config = sb.config()            # source-personio config pointing at the sandbox
        sb.dataset("/v1/company/employees")
        sb.truth("employees")           # every employee that exists now, straight from the data model
        sb.trigger(after_requests=2, path="/v1/company/employees", resource="employees", delete=1, seed=7)
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

DEFAULT_ID = "sandbox-client-id"
DEFAULT_SECRET = "sandbox-client-secret"


class Sandbox:
    def __init__(self, employees: int = 100, seed: int = 1, rate_limits: str = "off", faults=(), credentials=(),
                 extra_args=(), log_path: str | None = None, startup_timeout: float = 60.0,
                 churn: str | None = None, churn_every_requests: int | None = None,
                 churn_interval_s: float | None = None, clock: str | None = None, tenant: str | None = None):
        self.employees, self.seed, self.rate_limits = employees, seed, rate_limits
        self.churn, self.churn_every_requests, self.churn_interval_s = churn, churn_every_requests, churn_interval_s
        self.clock = clock
        self.tenant = tenant  # "full" (default), "small_business", "narrow", "shapes" or a comma combination
        self.faults, self.credentials, self.extra_args = list(faults), list(credentials), list(extra_args)
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.client_id, self.client_secret = DEFAULT_ID, DEFAULT_SECRET
        self.url: str | None = None
        self.pid: int | None = None
        self._proc = None
        self._log = None

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        cmd = [sys.executable, "-m", "personio_sandbox", "--port", "0", "--seed", str(self.seed),
               "--employees", str(self.employees), "--client-id", self.client_id,
               "--client-secret", self.client_secret]
        if self.rate_limits in ("off", "documented"):
            cmd += ["--rate-limits", self.rate_limits]
        else:
            cmd += ["--rate-limit-config", self.rate_limits if isinstance(self.rate_limits, str)
                    else json.dumps(self.rate_limits)]
        for f in self.faults:
            cmd += ["--fault", f if isinstance(f, str) else ",".join("%s=%s" % kv for kv in f.items())]
        for c in self.credentials:
            cmd += ["--credential", c if isinstance(c, str) else json.dumps(c)]
        if self.churn:
            cmd += ["--churn", self.churn]
        if self.churn_every_requests:
            cmd += ["--churn-every-requests", str(self.churn_every_requests)]
        if self.churn_interval_s:
            cmd += ["--churn-interval-s", str(self.churn_interval_s)]
        if self.clock:
            cmd += ["--clock", self.clock]
        if self.tenant:
            cmd += ["--tenant", self.tenant]
        cmd += [str(a) for a in self.extra_args]
        self._own_log = self.log_path is None
        if self._own_log:
            fd, self.log_path = tempfile.mkstemp(prefix="personio-sandbox-", suffix=".log")
            os.close(fd)
        self._log = open(self.log_path, "ab")
        out_path = self.log_path + ".stdout"
        self._out = open(out_path, "wb")
        self._proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._log, stdin=subprocess.DEVNULL)
        self.pid = self._proc.pid
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            with open(out_path, "rb") as f:
                line = f.readline().decode()
            if line.startswith("personio-sandbox listening on ") and line.endswith("\n"):
                self.url = line.split(" on ", 1)[1].strip()
                return
            if self._proc.poll() is not None:
                raise RuntimeError("sandbox exited with %s; log: %s" % (self._proc.returncode, self._tail()))
            time.sleep(0.02)
        tail = self._tail()
        self._own_log = False  # keep the log of a failed start
        self.stop()
        raise RuntimeError("sandbox did not start within %ss; log: %s" % (self.startup_timeout, tail))

    def _tail(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        p = self._proc
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        for fh in (self._log, getattr(self, "_out", None)):
            if fh:
                fh.close()
        self._proc = None
        if self.log_path:
            try:
                os.unlink(self.log_path + ".stdout")
                if getattr(self, "_own_log", False):
                    os.unlink(self.log_path)  # temporary log of a cleanly stopped sandbox
            except OSError:
                pass

    # ---------------------------------------------------------------- control API
    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return json.loads(r.read() or b"null")

    def stats(self) -> dict:
        return self._call("GET", "/_sandbox/stats")

    def reset_stats(self) -> None:
        self._call("POST", "/_sandbox/stats/reset", {})

    def dataset(self, path: str, client_id: str | None = None) -> list:
        """Ground truth of a list path; with ``client_id`` as that credential sees it (attribute whitelist)."""
        q = {"path": path}
        if client_id:
            q["client_id"] = client_id
        return self._call("GET", "/_sandbox/dataset?" + urllib.parse.urlencode(q))["records"]

    def mutate(self, create: int = 0, update: int = 0, delete: int = 0, resources=None, **mutation) -> dict:
        """Change data now. ``mutation`` takes the other keys of a mutation (``resource``, ``seed``,
        ``update_ids``, ``delete_ids``, ``ids``, ``position``; see ``personio_sandbox.mutate``)."""
        body = dict(mutation, create=create, update=update, delete=delete)
        if resources is not None:
            body["resources"] = list(resources)
        return self._call("POST", "/_sandbox/mutate", body)

    def trigger(self, after_requests: int | None = None, after_records: int | None = None, path: str | None = None,
                exact: bool = False, **mutation) -> str:
        """Fire ``mutation`` (``resource=..., create=..., update=..., delete=..., seed=...``) once, right after
        the ``after_requests``-th request (or once ``after_records`` records were served) on paths starting
        with ``path`` (``exact=True``: equal to it); returns the trigger id."""
        body = {"mutation": mutation}
        if after_requests is not None:
            body["after_requests"] = after_requests
        if after_records is not None:
            body["after_records"] = after_records
        if path is not None:
            body["path"] = path
        if exact:
            body["exact"] = True
        return self._call("POST", "/_sandbox/triggers", body)["id"]

    def triggers(self) -> list[dict]:
        """Every trigger with ``fired``, ``fired_at_request`` and (once fired) ``result``."""
        return self._call("GET", "/_sandbox/triggers")["triggers"]

    def clear_triggers(self) -> None:
        self._call("DELETE", "/_sandbox/triggers")

    def truth(self, resource: str, **query) -> list:
        """Every record of ``resource`` that exists now, straight from the data model (no paging)."""
        qs = ("?" + urllib.parse.urlencode(query)) if query else ""
        return self._call("GET", "/_sandbox/truth/%s%s" % (urllib.parse.quote(resource), qs))["records"]

    def truth_unavailable(self, resource: str, **query) -> dict | None:
        """``{"path", "status", "reason"}`` if this tenant / credential can not read ``resource`` (its truth
        is then empty), else None."""
        qs = ("?" + urllib.parse.urlencode(query)) if query else ""
        return self._call("GET", "/_sandbox/truth/%s%s" % (urllib.parse.quote(resource), qs)).get("unavailable")

    def tenant_info(self, client_id: str | None = None) -> dict:
        """The tenant profile (``tenant``, ``profiles``, ``modules_missing``, ``default_credential``, ``shapes``)
        and ``unavailable``: every route template this credential can not read, with status and reason."""
        qs = "?" + urllib.parse.urlencode({"client_id": client_id}) if client_id else ""
        return self._call("GET", "/_sandbox/tenant" + qs)

    def changes(self, since: int = 0) -> list[dict]:
        """Every applied change (resource, op, id, at, request, source, seq), optionally after ``seq`` ``since``."""
        return self._call("GET", "/_sandbox/changes?since=%d" % since)["changes"]

    def set_churn(self, churn, every_requests: int | None = None, interval_s: float | None = None) -> dict:
        """Start, change or (``churn=None``) stop churn while the sandbox runs."""
        return self._call("PUT", "/_sandbox/churn", {"churn": churn, "every_requests": every_requests,
                                                     "interval_s": interval_s})

    def set_faults(self, faults) -> None:
        self._call("PUT", "/_sandbox/faults", list(faults))

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sandbox/faults")

    def set_rate_limits(self, profile_or_dict) -> None:
        body = {"profile": profile_or_dict} if isinstance(profile_or_dict, str) else dict(profile_or_dict)
        self._call("PUT", "/_sandbox/rate-limits", body)

    def add_credential(self, cred: dict) -> None:
        self._call("POST", "/_sandbox/credentials", cred)

    def issued_tokens(self) -> list[str]:
        """Every access token (v1 and v2) this sandbox process has issued, for leak checks on output."""
        return self._call("GET", "/_sandbox/tokens")["tokens"]

    def config(self, **overrides) -> dict:
        cfg = {"client_id": self.client_id, "client_secret": self.client_secret, "base_url": self.url,
               "start_date": "2020-01-01"}
        cfg.update(overrides)
        return cfg
