"""Credentials and scopes: what a client id may read (v2 scopes, v1 scope names, attribute whitelist, the
rights Personio grants beside scopes, and the v2 trimming of a narrow credential)."""
from __future__ import annotations

import json
from dataclasses import dataclass


V2_SCOPES = ["personio:persons:read", "personio:employments:read", "personio:absences:read",
             "personio:attendances:read", "personio:projects:read", "personio:org-units:read",
             "personio:legal-entities:read", "personio:cost-centers:read", "personio:workplaces:read",
             "personio:compensations:read", "personio:recruiting:read"]
V1_SCOPE_OF = {"personio:persons:read": "employees:read", "personio:absences:read": "absences:read",
               "personio:attendances:read": "attendances:read", "personio:projects:read": "projects:read"}


@dataclass(frozen=True)
class Credential:
    client_id: str
    client_secret: str
    scopes: frozenset = frozenset(V2_SCOPES)
    attributes: frozenset | None = None  # None = all
    # rights this credential lacks (see ``RIGHTS``): Personio answers them not with 403 but as §10.2 says
    missing_rights: frozenset = frozenset()
    # §10.3: v2 persons / employments come back trimmed to a few fields (a credential with narrow allowed
    # attributes); nothing in the response says so
    trim_v2: bool = False

    @property
    def v1_scopes(self) -> list[str]:
        out = []
        for s in V2_SCOPES:
            v = V1_SCOPE_OF.get(s)
            if v and s in self.scopes and v not in out:
                out.append(v)
        return out

    @property
    def cache_key(self) -> tuple:
        return (tuple(sorted(self.attributes)) if self.attributes is not None else None,
                tuple(sorted(self.scopes)), tuple(sorted(self.missing_rights)), self.trim_v2)


FULL = Credential("sandbox", "sandbox")

# Rights beside scopes (no Personio file names a scope for them, §10.6): "persons" (reading /v2/persons),
# "reports" (custom reports v1 and the Report API v2).
RIGHTS = ("persons", "reports")


def credential_from(d) -> Credential:
    if isinstance(d, str):
        d = json.loads(d)
    scopes = d.get("scopes")
    if scopes is not None:
        bad = [s for s in scopes if s not in V2_SCOPES]
        if bad:
            raise ValueError("unknown scopes %s" % bad)
    attrs = d.get("attributes")
    missing = d.get("missing_rights") or []
    bad = [r for r in missing if r not in RIGHTS]
    if bad:
        raise ValueError("unknown rights %s (known: %s)" % (bad, list(RIGHTS)))
    return Credential(str(d["client_id"]), str(d["client_secret"]),
                      frozenset(scopes) if scopes is not None else frozenset(V2_SCOPES),
                      frozenset(attrs) | {"id"} if attrs is not None else None,
                      frozenset(missing), bool(d.get("trim_v2", False)))
