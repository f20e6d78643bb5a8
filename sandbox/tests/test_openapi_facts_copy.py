"""The repository's copy of Personio's OpenAPI facts (openapi_facts/, read by openapi_specs.py): it equals a
fresh extraction of Personio's originals whenever those are at hand, it holds no prose, and the extractor
keeps facts, drops prose and refuses keys it has not classified."""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

import openapi_specs as S

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("extract_openapi_facts", REPO / "scripts" / "extract_openapi_facts.py")
E = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(E)


def _originals() -> Path | None:
    env = os.environ.get("PERSONIO_API_SPECS")
    if env:
        return Path(env)  # asked for explicitly: missing files there are a failure, not a skip
    beside = REPO.parent / "shared" / "personio-api"
    return beside if (beside / E.FILES[0]).is_file() else None


@pytest.mark.reads_personio_originals
def test_committed_facts_equal_a_fresh_extraction_of_personios_originals():
    specs = _originals()
    if specs is None:
        pytest.skip("Personio's OpenAPI originals are not here (neither $PERSONIO_API_SPECS nor "
                    "../shared/personio-api beside the repository), so the committed copy in "
                    "sandbox/tests/openapi_facts cannot be compared with them; the suite uses the copy as is")
    fresh = E.extract(specs)
    assert E.extract(specs) == fresh  # deterministic
    have = E.committed()
    assert sorted(have) == sorted(fresh), "facts files differ from the originals' list"
    stale = [name for name in fresh if have[name] != fresh[name]]
    assert stale == [], ("%s changed in %s: run `.venv/bin/python scripts/extract_openapi_facts.py` and review "
                         "the diff (new defects may need section-9 mends or xfails)" % (stale, specs))


def test_the_suite_reads_the_facts_from_the_repository():
    for name in S.ALL_FILES:
        path = S.facts_path(name)
        assert path.is_relative_to(REPO) and path.is_file(), path
        assert S.original(name) == json.loads(E.committed()[E.facts_name(name)])


PROSE = {"description", "summary", "title", "example", "examples", "externalDocs", "tags", "contact", "license",
         "termsOfService"}


def _prose(node, where=(), parent=None) -> list:
    """Places where a prose keyword carries text (property names and empty required strings are fine)."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = where + (key,)
            is_name = parent in ("properties", "paths", "responses", "content", "schemas", "parameters",
                                 "securitySchemes", "headers", "requestBodies", "links", "callbacks", "encoding")
            if not is_name:
                if key.startswith("x-"):
                    found.append(here)
                elif key in PROSE and value != "" and here != ("info", "title"):
                    found.append(here)
            found += _prose(value, here, None if is_name else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _prose(value, where + (i,), parent)
    return found


def test_the_committed_facts_hold_no_prose():
    for name in S.ALL_FILES:
        assert _prose(S.original(name)) == [], name
    # the check sees prose where it is (taken from the original v2 persons file's shape)
    assert _prose({"paths": {"/v2/persons": {"get": {"summary": "List persons", "responses": {
        "200": {"description": "OK", "content": {"application/json": {"example": {"a": 1}}}}}}}}}) == [
        ("paths", "/v2/persons", "get", "summary"),
        ("paths", "/v2/persons", "get", "responses", "200", "description"),
        ("paths", "/v2/persons", "get", "responses", "200", "content", "application/json", "example")]


def test_extractor_keeps_facts_and_drops_prose():
    doc = {"openapi": "3.0.3", "info": {"title": "API", "version": "1", "description": "About us",
                                        "contact": {"email": "a@b.c"}},
           "x-readme": {"samples": True}, "tags": [{"name": "t", "description": "d"}],
           "paths": {"/things": {"summary": "s", "get": {
               "summary": "List", "description": "Long text", "tags": ["t"], "operationId": "list",
               "parameters": [{"name": "limit", "in": "query", "required": False, "description": "d",
                               "example": 5, "schema": {"type": "integer", "maximum": 100, "title": "Limit"}},
                              {"$ref": "#/components/parameters/P", "description": "d"}],
               "responses": {"200": {"description": "OK", "content": {"problem+json": {
                   "example": {"x": 1}, "examples": {"one": {"value": {}}},
                   "schema": {"type": "object", "required": ["description"],
                              "properties": {"description": {"type": "string", "description": "d"},
                                             "example": {"$ref": "#/components/schemas/S"}}}}}}}}}},
           "components": {"parameters": {"P": {"name": "p", "in": "header", "schema": {"type": "string"}}},
                          "schemas": {"S": {"type": "string", "enum": ["A"], "default": "A", "example": "A"}},
                          "examples": {"e": {"value": 1}},
                          "securitySchemes": {"o": {"type": "oauth2", "description": "d", "flows": {
                              "clientCredentials": {"tokenUrl": "/t", "scopes": {"read": "Read all"}}}}}}}
    assert E.document(doc, "x") == {
        "openapi": "3.0.3", "info": {"title": "API", "version": "1"},
        "paths": {"/things": {"get": {
            "operationId": "list",
            "parameters": [{"name": "limit", "in": "query", "required": False,
                            "schema": {"type": "integer", "maximum": 100}},
                           {"$ref": "#/components/parameters/P"}],
            "responses": {"200": {"description": "", "content": {"problem+json": {
                "schema": {"type": "object", "required": ["description"],
                           "properties": {"description": {"type": "string"},
                                          "example": {"$ref": "#/components/schemas/S"}}}}}}}}}},
        "components": {"parameters": {"P": {"name": "p", "in": "header", "schema": {"type": "string"}}},
                       "schemas": {"S": {"type": "string", "enum": ["A"], "default": "A"}},
                       "securitySchemes": {"o": {"type": "oauth2", "flows": {
                           "clientCredentials": {"tokenUrl": "/t", "scopes": {"read": ""}}}}}}}


def test_extractor_refuses_a_key_it_has_not_classified():
    doc = {"openapi": "3.0.3", "info": {"title": "API", "version": "1"}, "paths": {"/a": {"get": {"responses": {
        "200": {"description": "OK", "content": {"application/json": {"schema": {"const": 1}}}}}}}}}
    with pytest.raises(E.UnknownKey, match=r"/a/get/responses/200/content/application/json/schema: key 'const'"):
        E.document(doc, "x")
