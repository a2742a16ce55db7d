"""Content's typed contracts: response schemas, bounded ids, its own commit hooks, real settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from services.content.app import create_app
from services.content.service import common
from services.content.settings import ContentSettings
from tests.content.conftest import Content, _start
from tests.content.test_syndication import _setup
from tests.support.tokens import TestIssuer

TOO_BIG = 2**63


def test_every_content_answer_has_a_response_schema(tmp_path: Path) -> None:
    settings = ContentSettings(data_dir=tmp_path)
    spec = create_app(settings, run_workers=False).openapi()
    missing = []
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation.get("responses", {}).items():
                if not status.startswith("2") or status == "204":
                    continue
                checked += 1
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                if not (schema.get("$ref") or (schema.get("type") == "object" and schema.get("properties"))):
                    missing.append(f"{method.upper()} {path} {status}: {schema}")
    assert checked >= 27, checked
    assert missing == []


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", f"/api/content/v1/sites/jtj/columns/{TOO_BIG}"),
        ("PATCH", f"/api/content/v1/sites/jtj/columns/{TOO_BIG}"),
        ("DELETE", f"/api/content/v1/sites/jtj/columns/{TOO_BIG}"),
        ("GET", f"/api/content/v1/publications/{TOO_BIG}"),
        ("PATCH", f"/api/content/v1/publications/{TOO_BIG}"),
        ("POST", f"/api/content/v1/publications/{TOO_BIG}/submit"),
        ("DELETE", f"/api/content/v1/sites/jtj/channels/{TOO_BIG}"),
        ("DELETE", f"/api/content/v1/sites/jtj/subscriptions/{TOO_BIG}"),
        ("GET", f"/api/content/v1/items/{TOO_BIG}"),
        ("GET", f"/api/content/v1/columns/{TOO_BIG}/items"),
        ("GET", f"/api/content/v1/index-documents?after={TOO_BIG}"),
        ("GET", f"/api/content/v1/sites/jtj/publications?column_id={TOO_BIG}"),
    ],
)
async def test_ids_beyond_64_bits_answer_422(content: Content, method: str, path: str) -> None:
    await content.site("jtj")
    headers = {**content.admin, "X-Jiyue-Site": "jtj"}
    resp = await content.client.request(method, path, headers=headers, json={} if method != "GET" else None)
    assert resp.status_code == 422, resp.text


async def test_body_ids_beyond_64_bits_answer_422(content: Content) -> None:
    await content.site("jtj")
    resp = await content.client.post(
        "/api/content/v1/sites/jtj/publications",
        json={"column_id": TOO_BIG, "resource_id": 1, "resource_version": 1},
        headers=content.editor("jtj"),
    )
    assert resp.status_code == 422 and "column_id" in resp.text


def test_commit_hooks_stay_on_contents_own_sessions() -> None:
    """Other services' sessions must not run content's after-commit hook."""
    assert not event.contains(Session, "after_commit", common._run_after_commit)
    assert event.contains(common.ContentSyncSession, "after_commit", common._run_after_commit)


async def test_unknown_state_filter_is_422_not_an_empty_list(content: Content) -> None:
    await content.site("jtj")
    resp = await content.client.get(
        "/api/content/v1/sites/jtj/publications?status=publishd", headers=content.editor("jtj")
    )
    assert resp.status_code == 422


@pytest.fixture
async def content_two_hours(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    async for c in _start(tmp_path, issuer, run_workers=False, content_syndication_hours=2):
        yield c


async def test_syndication_deadline_follows_the_setting(content_two_hours: Content) -> None:
    content = content_two_hours
    source, _ = await _setup(content)
    pid = await content.publish_new("sfs", source, "重要通知", important=True)
    published = (
        await content.client.get(f"/api/content/v1/publications/{pid}", headers=content.admin)
    ).json()
    tasks = (await content.client.get("/api/content/v1/syndication/tasks", headers=content.admin)).json()
    assert tasks["total"] == 1
    due = datetime.fromisoformat(tasks["items"][0]["due_at"])
    assert due - datetime.fromisoformat(published["published_at"]) == timedelta(hours=2)
    assert tasks["items"][0]["due_at"].endswith("+08:00")
