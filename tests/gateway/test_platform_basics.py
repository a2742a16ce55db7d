"""The platform's first promises: merged OpenAPI, problem+json for every client error."""

from __future__ import annotations

import pytest

from tests.identity.helpers import bearer, internal_token
from tests.support.platform import Platform


@pytest.fixture
async def platform(tmp_path) -> Platform:
    async with Platform.start(tmp_path) as p:
        yield p


async def test_openapi_lists_every_service_under_its_prefix(platform: Platform) -> None:
    resp = await platform.client.get("/openapi.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    for service in ("identity", "content", "resources", "search"):
        assert any(p.startswith(f"/api/{service}/v1/") for p in paths), service
    docs = await platform.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_healthz_answers(platform: Platform) -> None:
    resp = await platform.client.get("/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/nowhere", "/api/nosuch/v1/x", "/api/content/v1/no-such-thing"])
async def test_unknown_path_is_problem_json(platform: Platform, path: str) -> None:
    resp = await platform.client.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 404 and body["type"].endswith("not-found") and body["title"]
    assert "Traceback" not in resp.text


async def test_request_id_is_returned(platform: Platform) -> None:
    resp = await platform.client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert resp.headers["x-request-id"] == "abc123"


async def test_malformed_json_and_wrong_field_type_are_problem_json_naming_the_problem(
    platform: Platform,
) -> None:
    admin = bearer(await internal_token(platform.client, platform.settings))
    broken = await platform.client.post(
        "/api/content/v1/sites",
        content=b'{"code": "x", "name": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422
    assert broken.headers["content-type"].startswith("application/problem+json")
    assert "JSON" in broken.json()["detail"] and "Traceback" not in broken.text

    wrong_type = await platform.client.post(
        "/api/content/v1/sites",
        json={"code": "jtj", "name": "交通局", "kind": "department", "domains": "not-a-list"},
        headers=admin,
    )
    assert wrong_type.status_code == 422
    assert wrong_type.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in wrong_type.json()["errors"]]
    assert "domains" in fields, wrong_type.text
