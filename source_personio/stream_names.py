"""Stream names for Personio's per-report streams (v1 ``custom_report_<name>``, v2 ``report_v2_<name>``).

Personio quirk: a report's name is free text. Two reports may share a name ("Headcount today" twice), and a
name may have no Latin letter at all (Cyrillic, Japanese), which the plain rule -- lower case, every run of
other characters one underscore -- turns into the same empty name. The CDK refuses a discover with two
streams of one name, so one badly named report would break every sync of the connection.

The rule, applied to the whole list of reports at once:
* ``prefix + slug`` where ``slug`` is the name in lower case with every run of characters other than
  ``a-z``/``0-9`` as one underscore (trimmed): the name every report with a Latin, unique name always had;
* a slug without a Latin letter (empty, or digits only) gets ``_<id8>``: the first 8 letters and digits of
  the report id (``report_v2_<id8>`` when the slug is empty);
* reports whose names give the same stream name: the one created first (then the smallest id) keeps it, the
  others get ``_<id8>``; a new report with an existing name therefore never renames the old one's stream;
* if a suffixed name is still taken, the whole id is used instead of its first 8 characters.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Dict, Iterable, Mapping, Tuple

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_LATIN = re.compile(r"[a-z]")


def slug(name: Any) -> str:
    """The report name in lower case, every run of other characters than a-z and 0-9 one underscore."""
    return _NOT_ALNUM.sub("_", str(name or "").lower()).strip("_")


def id_suffix(report_id: Any, length: int = 8) -> str:
    """The report id's letters and digits (lower case), cut to ``length`` (0: all); a hash if it has none."""
    chars = re.sub(r"[^a-z0-9]", "", str(report_id).lower()) or hashlib.sha1(str(report_id).encode()).hexdigest()
    return chars[:length] if length else chars


def _join(prefix: str, base: str, suffix: str) -> str:
    return f"{prefix}{base}_{suffix}" if base else f"{prefix}{suffix}"


def report_stream_names(prefix: str, reports: Iterable[Tuple[Any, Any, Any]]) -> Dict[str, str]:
    """Map each report id to its stream name. ``reports`` are ``(id, name, created_at)``; ``created_at``
    may be None (such reports rank after dated ones, then by id)."""
    listed = [(str(rid), name, created) for rid, name, created in reports]
    order = sorted(listed, key=lambda r: (r[2] is None, str(r[2] or ""), r[0]))
    names: Dict[str, str] = {}
    taken = set()
    for rid, name, _created in order:
        base = slug(name)
        candidates = []
        if _LATIN.search(base):
            candidates.append(prefix + base)
        candidates += [_join(prefix, base, id_suffix(rid)), _join(prefix, base, id_suffix(rid, 0))]
        chosen = next((c for c in candidates if c not in taken), None)
        if chosen is None:  # the same id listed twice: keep its first name
            chosen = names.get(rid) or candidates[-1]
        names.setdefault(rid, chosen)
        taken.add(chosen)
    return names


def dig(record: Mapping[str, Any], path: Iterable[str]) -> Any:
    """The value at ``path`` in nested mappings, None where a step is missing."""
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value
