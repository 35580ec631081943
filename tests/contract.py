"""Validate emulator responses against the real OpenAPI specs in ../shared/specs/.

Tests call :func:`validate_response`; when a spec file is absent the test is
skipped with a clear reason (the specs are reference data, not part of the repo).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
SPEC_FILES = {
    "asana": "asana_oas.yaml",
    "trello": "trello-openapi.json",
    "docspace": "docspace-backend.yaml",
}


@functools.cache
def load_spec(service: str) -> dict[str, Any]:
    path = SPECS / SPEC_FILES[service]
    if not path.exists():
        pytest.skip(f"OpenAPI spec {path} is not present (reference data lives in ../shared/specs)")
    if path.suffix == ".json":
        spec = json.loads(path.read_text())
    else:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        spec = yaml.load(path.read_text(), Loader=loader)
    return _openapi_to_jsonschema(spec)


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` means "or null"; JSON Schema needs that spelled out."""
    if isinstance(node, dict):
        # Asana writes "may be null" as a `nullable: true` member of an allOf
        nullable_member = any(
            isinstance(m, dict) and m.get("nullable") is True for m in node.get("allOf", [])
        )
        out = {k: _openapi_to_jsonschema(v) for k, v in node.items()}
        if out.pop("nullable", False) is True or nullable_member:
            return {"anyOf": [out, {"type": "null"}]}
        return out
    if isinstance(node, list):
        return [_openapi_to_jsonschema(v) for v in node]
    return node


def _match_path(spec: dict[str, Any], path: str) -> tuple[str, dict[str, Any]]:
    paths = spec.get("paths", {})
    if path in paths:
        return path, paths[path]
    matches = []
    for template, item in paths.items():
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$"
        if re.match(regex, path):
            literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
            matches.append((literal, template, item))
    if matches:
        # /boards/{id}/lists must win over the generic /boards/{id}/{field}
        _, template, item = max(matches, key=lambda m: m[0])
        return template, item
    raise AssertionError(f"{path} is not a path of the real API spec")


def operation(service: str, method: str, path: str) -> dict[str, Any]:
    """The spec's operation object for METHOD path (path relative to the API prefix)."""
    spec = load_spec(service)
    template, item = _match_path(spec, path)
    op = item.get(method.lower())
    assert op is not None, f"{method} {template} is not an operation of the real API spec"
    return op


def response_schema(
    service: str, method: str, path: str, status: int = 200
) -> dict[str, Any] | None:
    op = operation(service, method, path)
    responses = op.get("responses", {})
    resp = (
        responses.get(str(status))
        or responses.get(status)  # YAML specs key responses by int
        or responses.get(f"{str(status)[0]}XX")
        or responses.get("default")
    )
    if resp is None:
        return None
    spec = load_spec(service)
    while "$ref" in resp:
        resp = _resolve(spec, resp["$ref"])
    content = resp.get("content") or {}
    for ctype in ("application/json", "text/json", "text/plain", "*/*"):
        if ctype in content and "schema" in content[ctype]:
            return content[ctype]["schema"]
    for media in content.values():
        if "schema" in media:
            return media["schema"]
    return None


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def validate_response(service: str, method: str, path: str, body: Any, status: int = 200) -> None:
    """Assert that `body` satisfies the real spec's schema for this operation and status."""
    import jsonschema

    schema = response_schema(service, method, path, status)
    if schema is None:
        pytest.skip(f"the spec has no JSON schema for {method} {path} {status}")
    spec = load_spec(service)
    document = dict(spec)
    document["__schema__"] = schema
    validator = jsonschema.Draft7Validator(
        {"$ref": "#/__schema__", **{k: v for k, v in document.items()}}
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path)
        raise AssertionError(
            f"{method} {path}: response violates the spec at '{where}': {first.message}"
        )
