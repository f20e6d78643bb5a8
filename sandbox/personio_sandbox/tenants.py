"""Tenant profiles: the ways real Personio accounts differ from the one tidy tenant (§10.2, §10.3, §10.5).

A profile is a combination of:

* modules the company has not booked / features it lacks (``recruiting``: every ``/v2/recruiting/*`` path
  answers 404 ``apinot_found``; ``legal_entities``: ``/v2/legal-entities*`` answers 412), whatever the
  credential's scopes;
* rights the default credential lacks (``persons``: ``/v2/persons*`` 401 "Unauthorized Request";
  ``reports``: ``/v2/reports*`` 400 "Unauthorized token" and the v1 custom reports 403);
* a narrow default credential: a v1 attribute whitelist and the v2 trimming of §10.3;
* ``shapes``: the §10.5 record shapes (see ``personio_sandbox.shapes``).

``--tenant full`` is today's tenant; names combine with commas (``small_business,shapes``), ``shapes`` alone
is ``full`` plus the shapes.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from . import data as D
from .auth import Credential
from .errors import PROBLEM, ApiError, problem_body, v1_error, v2_error

MODULES = ("recruiting", "legal_entities")

# what the narrow credential's v1 whitelist allows (``id`` always comes back)
NARROW_ATTRIBUTES = frozenset({"id", "first_name", "last_name", "email", "status", "position", "department",
                               "hire_date", "created_at", "last_modified_at", "dynamic_105"})


@dataclass(frozen=True)
class Tenant:
    names: tuple = ("full",)
    modules_missing: frozenset = frozenset()
    missing_rights: frozenset = frozenset()          # of the default credential
    attributes: frozenset | None = None              # the default credential's v1 whitelist (None = all)
    trim_v2: bool = False                            # the default credential's v2 records are trimmed (§10.3)
    shapes: bool = False                             # §10.5 shapes

    @property
    def name(self) -> str:
        return ",".join(self.names)

    def default_credential(self, client_id: str, client_secret: str) -> Credential:
        return Credential(client_id, client_secret, attributes=self.attributes,
                          missing_rights=self.missing_rights, trim_v2=self.trim_v2)

    def to_json(self) -> dict:
        return {"tenant": self.name, "profiles": list(self.names), "modules_missing": sorted(self.modules_missing),
                "default_credential": {"missing_rights": sorted(self.missing_rights),
                                       "attributes": sorted(self.attributes) if self.attributes is not None else None,
                                       "trim_v2": self.trim_v2},
                "shapes": self.shapes}


PROFILES = {
    "full": {},
    "small_business": {"modules_missing": {"recruiting", "legal_entities"}, "missing_rights": {"persons", "reports"}},
    "narrow": {"attributes": NARROW_ATTRIBUTES, "trim_v2": True},
    "shapes": {"shapes": True},
}
FULL_TENANT = Tenant()


def parse_tenant(spec: str | None) -> Tenant:
    """``"full"``, ``"small_business"``, ``"narrow"``, ``"shapes"`` or a comma-separated combination."""
    names = [x.strip() for x in (spec or "full").split(",") if x.strip()] or ["full"]
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        raise ValueError("unknown tenant profile %s (known: %s)" % (unknown, sorted(PROFILES)))
    mods, rights, attrs, trim, shapes = set(), set(), None, False, False
    for n in names:
        p = PROFILES[n]
        mods |= set(p.get("modules_missing", ()))
        rights |= set(p.get("missing_rights", ()))
        if p.get("attributes") is not None:
            attrs = frozenset(p["attributes"]) if attrs is None else attrs & frozenset(p["attributes"])
        trim = trim or p.get("trim_v2", False)
        shapes = shapes or p.get("shapes", False)
    return Tenant(tuple(names), frozenset(mods), frozenset(rights), attrs, trim, shapes)


def tenant_of(c) -> Tenant:
    return getattr(c, "tenant", None) or FULL_TENANT


# ---------------------------------------------------------------- gates: what this tenant / credential cannot read
def _not_found(path: str) -> ApiError:
    """§10.2 [FORUM]: the module is not booked: ``"detail": "The endpoint with <path> was not found."``."""
    body = problem_body(404, "The endpoint with %s was not found." % path)
    body["errors"][0].update(title="Not Found", type="https://developer.personio.de/reference/errors#apinot_found")
    return ApiError(404, body, PROBLEM)


GATES = [
    # (path prefix, module or right, kind, status) -- kind "module" applies to every credential of the tenant
    ("/v2/recruiting", "recruiting", "module", 404),
    ("/v2/legal-entities", "legal_entities", "module", 412),
    ("/v2/persons", "persons", "right", 401),
    ("/v2/reports", "reports", "right", 400),
    ("/v1/company/custom-reports", "reports", "right", 403),
]
REASONS = {
    "recruiting": "the Recruiting module is not booked for this company",
    "legal_entities": "the legal entities feature is not available for this company",
    "persons": "the API credential has no right to read persons",
    "reports": "the API credential has no access to reports",
}


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def gate(c, cred: Credential, path: str) -> ApiError | None:
    """The error Personio answers on ``path`` for this tenant and credential, or None if it serves it."""
    t = tenant_of(c)
    for prefix, what, kind, status in GATES:
        if not _under(path, prefix):
            continue
        if kind == "module" and what in t.modules_missing:
            if status == 404:
                return _not_found(path)
            return v2_error(412, "The legal entities feature is not available for this company.")
        if kind == "right" and what in cred.missing_rights:
            if status == 401:
                return v2_error(401, "Unauthorized Request")
            if status == 400:
                return v2_error(400, "Unauthorized token")
            if path.startswith("/v1/company/custom-reports"):
                return v1_error(403, "Forbidden: the API credential has no access to custom reports")
    return None


def unavailable(c, cred: Credential, path: str) -> dict | None:
    """``{"path", "status", "reason"}`` if ``path`` is not served to this credential (for truth and
    ``GET /_sandbox/tenant``), else None."""
    e = gate(c, cred, path)
    if e is None:
        return None
    what = next(w for p, w, _k, _s in GATES if _under(path, p))
    return {"path": path, "status": e.status, "reason": REASONS[what]}


# ---------------------------------------------------------------- applying a profile to a generated company
SHAPE_REPORTS = [  # (name, type, archived): same-named, non-Latin and archived reports (issue 12)
    ("Headcount today", "point_in_time", False),          # the same name as a generated report
    ("Отчёт по сотрудникам", "timeframe", False),          # Cyrillic: no Latin letter in the name
    ("従業員一覧", "point_in_time", False),                  # Japanese
    ("Headcount 2025 (archived)", "point_in_time", True),  # archived: listed, its rows answer 400
]


def apply(c, tenant: Tenant) -> None:
    """Make ``c`` the company of ``tenant``: remember the profile and, with shapes, switch the §10.5
    renderings on and add the shape reports (from their own RNG: the rest of the company is the same as
    the full tenant's)."""
    c.tenant = tenant
    if not tenant.shapes:
        return
    c.options["shapes"] = True
    rng = random.Random(c.seed * 104729 + 3)
    for name, typ, archived in SHAPE_REPORTS:
        c.reports.append({"id": D.det_uuid(rng), "name": name, "type": typ, "description": "Sandbox report: %s" % name,
                          "created_ts": D.BASE_EPOCH - 150 * D.DAY, "updated_ts": D.BASE_EPOCH - 5 * D.DAY,
                          "refreshed_ts": D.BASE_EPOCH - 3600, "archived": archived})
    for e in c.employees.values():
        e["rendered_v1"] = None  # salary currency
    c.version += 1
