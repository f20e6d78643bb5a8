"""Extract the machine-checkable facts of Personio's official OpenAPI files into the repository.

The conformance and fidelity tests (sandbox/tests) validate the sandbox's responses with openapi-core against
Personio's published OpenAPI files. Those files are not part of this repository, so this script keeps, in
``sandbox/tests/openapi_facts/``, only what a validator needs: paths, methods, parameters (name, in, required,
style, schema), request bodies, response status codes, media-type keys (exactly as published, defects included),
schemas and the components they ``$ref`` (refs are kept, the referenced components are kept with them),
servers and security schemes. Personio's prose is left out: every ``description``, ``summary``, ``title`` of a
schema, ``example``/``examples``, ``externalDocs``, ``tags``, contact/licence data and every ``x-*`` extension
(readme snippets, code samples). OpenAPI requires a few text fields (``info.title``, each response's
``description``, each OAuth scope's text); ``info.title`` is kept (it is the API's name), the others are
written as empty strings.

The walk knows each OpenAPI 3.0 object kind and stops with an error on a key it does not know, so a new
construct in a future file version is looked at (is it prose or a fact?) instead of being copied or dropped
silently. Key order is the file's own: it is deterministic, and openapi-core picks among equally concrete
path templates and among media-type ranges in document order, so reordering could change what is validated.
Section-9 mends are NOT applied here; sandbox/tests/openapi_specs.py applies them when loading.

``openapi_facts/SOURCES.json`` records each original's SHA-256, so any new Personio file version is noticed
by ``sandbox/tests/test_openapi_facts_copy.py`` even when only its prose changed.

Usage (from the repository root, in the project's venv):

    python scripts/extract_openapi_facts.py [--specs DIR] [--check]

DIR defaults to ``$PERSONIO_API_SPECS``, else ``../shared/personio-api`` beside the repository. ``--check``
writes nothing and exits 1 if the committed copy differs from a fresh extraction.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FACTS_DIR = REPO / "sandbox" / "tests" / "openapi_facts"
SOURCES = "SOURCES.json"

# Personio's files the tests use, by their published relative names.
FILES = (
    "personio-personnel-data-api-oa3.yaml",
    "personio-auth-api.yaml",
    "personio-recruiting-api.yaml",
    "v2/credentials-service-api-v2.json",
    "v2/persons-service-api-v2.json",
    "v2/employment-contract-v2.json",
    "common-components-v2.json",
)


def facts_name(name: str) -> str:
    """Relative path of the facts file for one original (``x.yaml`` -> ``x.json``, folders kept)."""
    return str(Path(name).with_suffix(".json").as_posix())


def default_specs_dir() -> Path:
    env = os.environ.get("PERSONIO_API_SPECS")
    return Path(env) if env else REPO.parent / "shared" / "personio-api"


class UnknownKey(ValueError):
    """The file uses a key this extractor has not classified as prose or fact."""


# ------------------------------------------------------------------ the walk, one function per object kind
PROSE = {"description", "summary", "externalDocs", "example", "examples", "tags"}


def _obj(node: dict, where: str, facts: dict, kind: str, extra_prose: frozenset = frozenset()) -> dict:
    """Copy ``node`` keeping only fact keys; ``facts`` maps a key to the function that converts its value."""
    if not isinstance(node, dict):
        raise UnknownKey("%s: a %s must be a mapping, found %r" % (where, kind, type(node).__name__))
    out = {}
    for key, value in node.items():
        key = str(key)
        if key.startswith("x-") or key in PROSE or key in extra_prose:
            continue
        if key not in facts:
            raise UnknownKey("%s: key %r of a %s is neither a known fact nor known prose; classify it in %s"
                             % (where, key, kind, Path(__file__).name))
        conv = facts[key]
        out[key] = conv(value, "%s/%s" % (where, key)) if conv else value
    return out


def _map(conv):
    """A name -> object map (names are data, never prose)."""
    def walk(node, where):
        if not isinstance(node, dict):
            raise UnknownKey("%s: expected a mapping" % where)
        return {str(k): conv(v, "%s/%s" % (where, k)) for k, v in node.items() if not str(k).startswith("x-")}
    return walk


def _list(conv):
    def walk(node, where):
        if not isinstance(node, list):
            raise UnknownKey("%s: expected a list" % where)
        return [conv(v, "%s/%d" % (where, i)) for i, v in enumerate(node)]
    return walk


def _reference(node: dict, where: str) -> dict:
    """A Reference Object: ``$ref`` only (its prose siblings dropped, any other sibling is an error)."""
    return _obj(node, where, {"$ref": None}, "Reference Object", frozenset({"title"}))


def _ref_or(conv):
    def walk(node, where):
        if isinstance(node, dict) and "$ref" in node:
            return _reference(node, where)
        return conv(node, where)
    return walk


def schema(node, where):
    if isinstance(node, bool):
        return node
    if isinstance(node, dict) and "$ref" in node:
        return _reference(node, where)
    sub, subs = _ref_or(schema), _list(schema)
    facts = {k: None for k in (
        "type", "format", "enum", "default", "nullable", "required", "readOnly", "writeOnly", "deprecated",
        "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
        "pattern", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "discriminator", "xml")}
    facts.update({"items": sub, "not": sub, "additionalProperties": sub, "allOf": subs, "oneOf": subs,
                  "anyOf": subs, "properties": _map(sub)})
    return _obj(node, where, facts, "Schema Object", frozenset({"title"}))


def media_type(node, where):
    return _obj(node, where, {"schema": _ref_or(schema), "encoding": _map(encoding)}, "Media Type Object")


def header(node, where):
    facts = {k: None for k in ("required", "deprecated", "allowEmptyValue", "style", "explode", "allowReserved")}
    facts.update({"schema": _ref_or(schema), "content": _map(media_type)})
    return _obj(node, where, facts, "Header Object")


def encoding(node, where):
    facts = {k: None for k in ("contentType", "style", "explode", "allowReserved")}
    facts["headers"] = _map(_ref_or(header))
    return _obj(node, where, facts, "Encoding Object")


def parameter(node, where):
    facts = {k: None for k in ("name", "in", "required", "deprecated", "allowEmptyValue", "style", "explode",
                               "allowReserved")}
    facts.update({"schema": _ref_or(schema), "content": _map(media_type)})
    return _obj(node, where, facts, "Parameter Object")


def request_body(node, where):
    return _obj(node, where, {"required": None, "content": _map(media_type)}, "Request Body Object")


def link(node, where):
    facts = {k: None for k in ("operationRef", "operationId", "parameters", "requestBody")}
    facts["server"] = server
    return _obj(node, where, facts, "Link Object")


def response(node, where):
    out = _obj(node, where, {"headers": _map(_ref_or(header)), "content": _map(media_type),
                             "links": _map(_ref_or(link))}, "Response Object")
    return {"description": "", **out}  # required by OpenAPI; the text itself is prose


def server(node, where):
    var = lambda n, w: _obj(n, w, {"enum": None, "default": None}, "Server Variable Object")
    return _obj(node, where, {"url": None, "variables": _map(var)}, "Server Object")


def operation(node, where):
    return _obj(node, where, {
        "operationId": None, "deprecated": None, "security": None,
        "parameters": _list(_ref_or(parameter)), "requestBody": _ref_or(request_body),
        "responses": _map(_ref_or(response)), "callbacks": _map(_ref_or(_map(path_item))),
        "servers": _list(server)}, "Operation Object")


METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def path_item(node, where):
    facts = {m: operation for m in METHODS}
    facts.update({"$ref": None, "parameters": _list(_ref_or(parameter)), "servers": _list(server)})
    return _obj(node, where, facts, "Path Item Object")


def oauth_flow(node, where):
    scopes = lambda n, w: {str(k): "" for k in n}  # scope names are facts, their texts prose
    return _obj(node, where, {"authorizationUrl": None, "tokenUrl": None, "refreshUrl": None, "scopes": scopes},
                "OAuth Flow Object")


def security_scheme(node, where):
    flows = lambda n, w: _obj(n, w, {k: oauth_flow for k in ("implicit", "password", "clientCredentials",
                                                              "authorizationCode")}, "OAuth Flows Object")
    return _obj(node, where, {"type": None, "name": None, "in": None, "scheme": None, "bearerFormat": None,
                              "openIdConnectUrl": None, "flows": flows}, "Security Scheme Object")


def components(node, where):
    return _obj(node, where, {
        "schemas": _map(schema), "responses": _map(_ref_or(response)), "parameters": _map(_ref_or(parameter)),
        "requestBodies": _map(_ref_or(request_body)), "headers": _map(_ref_or(header)),
        "securitySchemes": _map(_ref_or(security_scheme)), "links": _map(_ref_or(link)),
        "callbacks": _map(_ref_or(_map(path_item)))}, "Components Object")


def info(node, where):
    return _obj(node, where, {"title": None, "version": None}, "Info Object",
                frozenset({"termsOfService", "contact", "license"}))


def document(doc: dict, name: str) -> dict:
    """The facts of one OpenAPI 3.0 document (a new dict; ``doc`` is not changed)."""
    return _obj(doc, name + "#", {"openapi": None, "info": info, "servers": _list(server), "paths": _map(path_item),
                                  "components": components, "security": None}, "OpenAPI Object")


# ------------------------------------------------------------------ files
def load_original(path: Path) -> dict:
    """Read a file the way openapi-core reads one from disk (YAML loader + JSON round trip: ``200:`` -> "200")."""
    from jsonschema_path.handlers.file import FileHandler

    with open(path, encoding="utf-8") as f:
        return FileHandler()(f)


def dump(doc) -> str:
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def extract(specs_dir: Path) -> dict[str, str]:
    """Every facts file's relative path -> its exact text, computed from the originals in ``specs_dir``."""
    out, sources = {}, {}
    for name in FILES:
        path = specs_dir / name
        raw = path.read_bytes()
        out[facts_name(name)] = dump(document(load_original(path), name))
        sources[name] = {"facts": facts_name(name), "sha256": hashlib.sha256(raw).hexdigest()}
    out[SOURCES] = dump({"generated_by": "scripts/extract_openapi_facts.py", "originals": sources})
    return out


def committed(facts_dir: Path = FACTS_DIR) -> dict[str, str]:
    """The facts files in the repository, by relative path."""
    return {p.relative_to(facts_dir).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(facts_dir.rglob("*.json"))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--specs", type=Path, default=None, help="folder with Personio's originals")
    ap.add_argument("--check", action="store_true", help="compare with the committed copy, write nothing")
    args = ap.parse_args(argv)
    specs = args.specs or default_specs_dir()
    if not (specs / FILES[0]).is_file():
        print("Personio's OpenAPI files not found in %s (set PERSONIO_API_SPECS or pass --specs)" % specs,
              file=sys.stderr)
        return 2
    fresh = extract(specs)
    if args.check:
        have = committed()
        stale = sorted(k for k in set(fresh) | set(have) if fresh.get(k) != have.get(k))
        for k in stale:
            print("differs: %s" % k)
        print("openapi facts %s (%d files)" % ("differ" if stale else "match", len(fresh)))
        return 1 if stale else 0
    for k in set(committed()) - set(fresh):
        (FACTS_DIR / k).unlink()
    for k, text in fresh.items():
        target = FACTS_DIR / k
        target.parent.mkdir(parents=True, exist_ok=True)
        with io.open(target, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print("wrote %d files to %s" % (len(fresh), FACTS_DIR.relative_to(REPO)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
