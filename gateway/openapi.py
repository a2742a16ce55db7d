"""One OpenAPI document for the whole platform, merged from every service's own."""

from __future__ import annotations

import json
from typing import Any


def merge_openapi(docs: dict[str, dict[str, Any]], *, title: str, version: str) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "集约化平台统一接口。按 Host 头或 /sites/{code}/ 前缀选择站点。",
        },
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
        "tags": [],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    seen_tags: set[str] = set()
    for service, doc in docs.items():
        own = doc.get("components", {}).get("schemas", {})
        # Same name, different shape in two services: keep both, prefix the later one.
        renames = {n: f"{service}__{n}" for n, s in own.items() if n in schemas and schemas[n] != s}
        if renames:
            text = json.dumps(doc)
            for old, new in renames.items():
                text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
            doc = json.loads(text)
            own = {renames.get(n, n): s for n, s in doc.get("components", {}).get("schemas", {}).items()}
        schemas.update(own)
        merged["components"]["securitySchemes"].update(doc.get("components", {}).get("securitySchemes", {}))
        for path, item in doc.get("paths", {}).items():
            merged["paths"][path] = item
        for tag in doc.get("tags", []):
            if tag.get("name") not in seen_tags:
                seen_tags.add(tag["name"])
                merged["tags"].append(tag)
    merged["components"]["securitySchemes"].setdefault(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    return merged
