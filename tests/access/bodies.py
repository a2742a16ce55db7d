"""Minimal valid-looking requests synthesised from an operation's own schema.

Fields that can name a site or an object are aimed at site A, so that a write which passes
validation tests the route's authorisation rather than its validation.
"""

from __future__ import annotations

from typing import Any

from tests.access.world import World

MAX_DEPTH = 4


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _resolve(options[0], doc) if options else {"type": "null"}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0], doc)
    return schema


def _value(name: str, schema: dict[str, Any], doc: dict[str, Any], world: World, depth: int) -> Any:
    schema = _resolve(schema, doc)
    aimed = _aimed(name, world)
    if aimed is not None:
        return int(aimed) if schema.get("type") == "integer" else aimed
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth >= MAX_DEPTH:
            return {}
        required = set(schema.get("required", []))
        return {
            key: _value(key, sub, doc, world, depth + 1)
            for key, sub in schema.get("properties", {}).items()
            if key in required
        }
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    if fmt == "date":
        return "2026-01-05"
    if fmt == "date-time":
        return "2026-01-05T09:00:00+08:00"
    if fmt == "email":
        return "someone@example.com"
    if fmt in ("uri", "url"):
        return "https://example.com/hook"
    return "测试" * max(1, int(schema.get("minLength", 1)))


def _aimed(name: str, world: World) -> str | None:
    if name in ("site", "site_code", "owner_site"):
        return world.site_a
    if name in ("column_id", "resource_id", "publication_id"):
        return world.objects.get(name)
    return None


def body_for(op: dict[str, Any], doc: dict[str, Any], world: World) -> Any:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        return _value("", content["application/json"].get("schema", {}), doc, world, 0)
    if "multipart/form-data" in content:
        schema = _resolve(content["multipart/form-data"].get("schema", {}), doc)
        files = [
            k for k, v in schema.get("properties", {}).items() if _resolve(v, doc).get("format") == "binary"
        ]
        return (files[0] if files else "file", b"note")
    return None


def query_for(op: dict[str, Any], world: World) -> dict[str, str]:
    """Required query parameters, the search text aimed at A's non-public words, sites aimed at A."""
    query: dict[str, str] = {}
    for param in op.get("parameters", []):
        if param["in"] != "query":
            continue
        name = param["name"]
        if name == "q":
            query[name] = world.search_word
        elif name in ("site", "for_site"):
            query[name] = world.site_a if name == "site" else world.site_b
        elif param.get("required"):
            schema = param.get("schema", {})
            query[name] = str(schema.get("enum", ["1" if schema.get("type") == "integer" else "x"])[0])
    return query
