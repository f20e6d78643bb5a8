"""Personio's official OpenAPI files, loaded for openapi-core, with exactly the mends that section 9
("Known defects in the official files") of Personio's API reference (``personio-api/README.md``) lists:

1. v1: ``components.schemas.Response.properties.data`` is relaxed to any type (every v1 list schema is
   ``allOf: [Response, {data: array}]`` while ``Response`` says ``data: object``, so no list could pass).
2. v2: every string ``enum`` also accepts the lower-case spelling of each value (the files say ``STRING``,
   Personio sends ``"string"``).

Nothing else is changed. The files are read from the repository's own copy of their facts,
``sandbox/tests/openapi_facts/`` (paths, parameters, status codes, media-type keys exactly as published,
schemas and components; Personio's prose left out), written by ``scripts/extract_openapi_facts.py`` from
Personio's originals the way openapi-core reads them from disk (YAML integer keys such as ``200:`` became
``"200"``, timestamps stayed strings). Nothing outside the repository is read; ``test_openapi_facts_copy.py``
compares the copy with a fresh extraction whenever the originals are at hand.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from openapi_core import Config, OpenAPI
from openapi_core.deserializing.media_types import json_loads

V1_PERSONNEL = "personio-personnel-data-api-oa3.yaml"
V1_AUTH = "personio-auth-api.yaml"
V1_RECRUITING = "personio-recruiting-api.yaml"
V2_CREDENTIALS = "v2/credentials-service-api-v2.json"
V2_PERSONS = "v2/persons-service-api-v2.json"
V2_EMPLOYMENTS = "v2/employment-contract-v2.json"
V2_COMMON = "common-components-v2.json"

V1_FILES = (V1_PERSONNEL, V1_AUTH, V1_RECRUITING)
V2_FILES = (V2_CREDENTIALS, V2_PERSONS, V2_EMPLOYMENTS, V2_COMMON)
ALL_FILES = V1_FILES + V2_FILES

# Keys whose subtrees are sample data, not schemas: an "enum" key in there is not a schema keyword.
_NOT_SCHEMA = ("example", "examples", "x-examples")

# Validator configuration (not a change to any file): openapi-core decodes only a fixed list of media
# types as JSON. The v2 files declare their error bodies as application/problem+json, and the v1 file declares
# GET /company/absence-periods errors under the bare key "problem+json"; both are JSON.
CONFIG = Config(extra_media_type_deserializers={"application/problem+json": json_loads, "problem+json": json_loads})


FACTS_DIR = Path(__file__).resolve().parent / "openapi_facts"


def facts_path(name: str) -> Path:
    """The repository's facts file for one of Personio's files (``x.yaml`` -> ``openapi_facts/x.json``)."""
    return FACTS_DIR / Path(name).with_suffix(".json")


@lru_cache(maxsize=None)
def _load(name: str) -> dict:
    with open(facts_path(name), encoding="utf-8") as f:
        return json.load(f)


def original(name: str) -> dict:
    """The file's facts as published, unmended (a fresh deep copy, safe to modify)."""
    return copy.deepcopy(_load(name))


def relax_v1_response_data(doc: dict) -> dict:
    """Section 9, defect 1: let ``Response.data`` be any type (arrays for lists, objects otherwise)."""
    data = doc["components"]["schemas"]["Response"]["properties"]["data"]
    data.pop("type")
    return doc


def accept_lowercase_enums(doc) -> None:
    """Section 9, defect 2: append the lower-case spelling of each string enum value (in place)."""
    if isinstance(doc, dict):
        enum = doc.get("enum")
        if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
            extra = [v.lower() for v in enum if v.lower() not in enum]
            doc["enum"] = enum + list(dict.fromkeys(extra))
        for key, value in doc.items():
            if key not in _NOT_SCHEMA:
                accept_lowercase_enums(value)
    elif isinstance(doc, list):
        for item in doc:
            accept_lowercase_enums(item)


def mended(name: str) -> dict:
    """The file with the section-9 mends that apply to it (a fresh deep copy)."""
    doc = original(name)
    if name == V1_PERSONNEL:
        relax_v1_response_data(doc)
    if name in V2_FILES:
        accept_lowercase_enums(doc)
    return doc


@lru_cache(maxsize=None)
def openapi(name: str, mend: bool = True) -> OpenAPI:
    """openapi-core ``OpenAPI`` object for one official file (mended by default)."""
    return OpenAPI.from_dict(mended(name) if mend else original(name), config=CONFIG)


def v1() -> OpenAPI:
    return openapi(V1_PERSONNEL)


def v1_auth() -> OpenAPI:
    return openapi(V1_AUTH)


def v2_credentials() -> OpenAPI:
    return openapi(V2_CREDENTIALS)


def v2_persons() -> OpenAPI:
    return openapi(V2_PERSONS)


def v2_employments() -> OpenAPI:
    return openapi(V2_EMPLOYMENTS)


def v2_common() -> OpenAPI:
    return openapi(V2_COMMON)
