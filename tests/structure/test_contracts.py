"""Issue 21: the merged OpenAPI types every success answer, and every instant has one offset."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from gateway.demo.seed import seed_platform
from tests.support.platform import Platform

ADMIN_PASSWORD = "Structure-Admin-2026"
POSITION = re.compile(r"\[\d+\]")
METHODS = ("get", "post", "put", "patch", "delete")
# An instant: a date, a time and optionally an offset (dates alone are not instants).
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _typed(schema: dict[str, Any], media: str) -> bool:
    """A named model (or a list of them), or at least declared properties; files as binary."""
    if "$ref" in schema or schema.get("properties"):
        return True
    if schema.get("type") == "array":
        return _typed(schema.get("items") or {}, media)
    if any(k in schema for k in ("anyOf", "oneOf", "allOf")):
        parts = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf") or []
        return all(_typed(p, media) or p.get("type") == "null" for p in parts)
    return not media.endswith("json") and schema.get("type") == "string"


def untyped_operations(spec: dict[str, Any]) -> list[str]:
    offenders = []
    for path, item in sorted(spec["paths"].items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            for status, response in op.get("responses", {}).items():
                if not str(status).startswith("2") or str(status) == "204":
                    continue
                content = response.get("content") or {}
                if not content or not all(_typed(c.get("schema") or {}, m) for m, c in content.items()):
                    offenders.append(f"{method.upper()} {path} {status}")
    return offenders


async def test_every_success_answer_has_a_response_schema(tmp_path: Path) -> None:
    async with Platform.start(tmp_path) as platform:
        spec = (await platform.client.get("/openapi.json")).json()
    assert len(spec["paths"]) > 50  # the merged document, not one service's
    offenders = untyped_operations(spec)
    assert offenders == [], f"{len(offenders)} operations answer 2xx without a typed schema:\n" + "\n".join(
        offenders
    )


def instants(value: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in instants(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value[:5]) for hit in instants(v, f"{where}[{i}]")]
    if isinstance(value, str) and INSTANT.match(value):
        return [(where or ".", value)]
    return []


def _first_id(body: Any) -> str | None:
    items = body.get("items") if isinstance(body, dict) else body
    if isinstance(items, list) and items and isinstance(items[0], dict):
        for key in ("id", "code", "publication_id", "username"):
            if items[0].get(key) is not None:
                return str(items[0][key])
    return None


async def sample(client: httpx.AsyncClient, spec: dict[str, Any], headers: dict[str, str], site: str):  # type: ignore[no-untyped-def]
    """Answers of every GET without parameters, then of every GET whose one path parameter
    can be filled from the list above it (`/things` answers the id for `/things/{id}`)."""
    answers: dict[str, Any] = {}
    paths = [p for p, item in spec["paths"].items() if "get" in item and p.startswith("/api/")]
    for path in sorted(p for p in paths if "{" not in p):
        for url in (path, f"/sites/{site}{path}"):
            resp = await client.get(url, headers=headers)
            if resp.status_code == 200 and resp.headers.get("content-type", "").startswith(
                "application/json"
            ):
                answers[url] = resp.json()
    for path in sorted(p for p in paths if p.count("{") == 1 and p.endswith("}")):
        parent = path.rsplit("/", 1)[0]
        for prefix in ("", f"/sites/{site}"):
            ident = _first_id(answers.get(prefix + parent))
            if ident is None:
                continue
            url = prefix + parent + "/" + ident
            resp = await client.get(url, headers=headers)
            if resp.status_code == 200 and resp.headers.get("content-type", "").startswith(
                "application/json"
            ):
                answers[url] = resp.json()
    return answers


@pytest.mark.timeout(600)
async def test_every_instant_in_every_answer_is_written_with_plus_eight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIYUE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    async with Platform.start(tmp_path, gateway_rate_limits=False) as platform:
        await seed_platform(platform.gateway, platform.settings, Console(quiet=True))
        signed_in = await platform.client.post(
            "/api/identity/v1/token",
            data={"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD,
                  "client_id": "jiyue-console"},
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        spec = (await platform.client.get("/openapi.json")).json()
        answers = await sample(platform.client, spec, headers, "sfs")
    services = {url.split("/api/")[1].split("/")[0] for url in answers}
    assert services >= {"identity", "content", "resources", "search"}, services
    seen = [(url, where, value) for url, body in answers.items() for where, value in instants(body)]
    assert len(seen) > 20  # the sample does reach timestamps
    # One line per field of an answer (list positions folded), with one example value.
    folded: dict[str, str] = {}
    for url, where, value in seen:
        if not value.endswith("+08:00"):
            field = POSITION.sub("[]", where)
            folded.setdefault(f"{url.removeprefix('/sites/sfs')} {field}", value)
    offenders = [f"{field} (e.g. {value})" for field, value in sorted(folded.items())]
    assert offenders == [], f"{len(offenders)} instants not written with +08:00:\n" + "\n".join(offenders)
