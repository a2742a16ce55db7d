"""Through the gateway: a consultation, a survey and an interview opened on one site are found
by that site's search (kind, status and public URL on the hit) and not by another site's —
on the embedded engine and on a real Elasticsearch alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.tenancy import SiteEntry
from services.kernel import clock
from services.search.interaction import InteractionIndexer
from tests.interaction.interview_support import People, fake_staff, interview_body
from tests.search.conftest import BACKENDS
from tests.support import real
from tests.support.platform import Platform
from tests.support.tokens import TestIssuer

BASE = "/sites/jtj/api/interaction/v1"
PUBLIC = "/api/interaction/v1/public"


@pytest.fixture(params=BACKENDS)
async def platform(
    request: pytest.FixtureRequest, tmp_path: Path, issuer: TestIssuer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Platform]:
    if request.param == "elasticsearch":
        # The gateway's own settings ignore other services' keys; in-process services read the env.
        monkeypatch.setenv("JIYUE_SEARCH_BACKEND", "elasticsearch")
        monkeypatch.setenv("JIYUE_ELASTICSEARCH_URL", real.elasticsearch_url())
        monkeypatch.setenv("JIYUE_SEARCH_INDEX_PREFIX", f"jiyue-test-{uuid.uuid4().hex[:10]}")
    async with Platform.start(tmp_path / "var") as p:
        known = p.gateway.sites.by_code
        extra = [
            SiteEntry(code=c, name=n) for c, n in (("jtj", "交通局"), ("wjw", "卫健委")) if c not in known
        ]
        p.gateway.sites.replace([*known.values(), *extra])
        p.gateway.guard.verifier = issuer.verifier()
        interaction = p.gateway.local_apps["interaction"].state.ctx
        interaction.verifier = issuer.verifier(also=interaction.verifier)
        interaction.state.interviews.staff = fake_staff
        search = p.gateway.local_apps["search"].state.ctx
        assert search.state.backend.name == request.param
        try:
            yield p
        finally:
            if request.param == "elasticsearch":
                await search.state.backend.drop_all()
    clock.reset()


def _indexer(platform: Platform) -> InteractionIndexer:
    consumers = platform.gateway.local_apps["search"].state.ctx.consumers
    return next(c for c in consumers if isinstance(c, InteractionIndexer))


async def found(platform: Platform, site: str, q: str, expect_any: bool = True, **params: Any) -> list[Any]:
    """The site's hits for `q`, once the platform's own indexer has caught up with interaction's
    feed (it runs in the background; a second caller of the same consumer would race it)."""
    indexer = _indexer(platform)
    items: list[Any] = []
    for _ in range(100):  # at most ~10 s
        status = await indexer.status()
        resp = await platform.client.get(
            f"/sites/{site}/api/search/v1/search",
            params={"q": q, **params},
            headers={"Cache-Control": "no-cache"},
        )
        assert resp.status_code == 200, resp.text
        items = resp.json()["items"]
        if status["lag"] == 0 and (bool(items) == expect_any):
            return items
        await asyncio.sleep(0.1)
    return items


def _window() -> dict[str, str]:
    now = clock.now()
    return {
        "starts_at": clock.to_wire(now - timedelta(minutes=1)),
        "ends_at": clock.to_wire(now + timedelta(minutes=60)),
    }


async def test_consultation_survey_and_interview_are_found_on_their_own_site_only(
    platform: Platform, issuer: TestIssuer
) -> None:
    client = platform.client
    editor = issuer.headers("ed", [("editor", "jtj")], name="编辑")
    draft = {
        "title": "《示范市网约车管理办法（征求意见稿）》公开征求意见",
        "summary": "欢迎社会各界提出意见建议。",
        "paragraphs": [{"anchor": "art-1", "text": "第一条 网约车平台应当公示计价规则。"}],
        "attachments": [],
        **_window(),
    }
    made = await client.post(f"{BASE}/consultations", json=draft, headers=editor)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert await found(platform, "jtj", "计价规则", expect_any=False) == []  # a draft is not public
    assert (await client.post(f"{BASE}/consultations/{cid}/open", headers=editor)).status_code == 200

    survey = {
        "title": "城市公交服务满意度调查",
        "description": "请您评价公交准点情况。",
        "questions": [{"id": "q1", "kind": "scale", "text": "总体满意度", "scale_max": 5}],
        **_window(),
    }
    made = await client.post(f"{BASE}/surveys", json=survey, headers=editor)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert (await client.post(f"{BASE}/surveys/{sid}/open", headers=editor)).status_code == 200

    people = People(issuer, site_header=False)
    made = await client.post(
        f"{BASE}/interviews", json=interview_body(title="聚焦城市停车难治理"), headers=people.editor
    )
    assert made.status_code == 201, made.text
    iid = made.json()["id"]

    hits = await found(platform, "jtj", "计价规则")
    assert [(h["kind"], h["status"], h["url"]) for h in hits] == [
        ("consultation", "open", f"{PUBLIC}/consultations/{cid}")
    ]
    assert (await client.get(f"/sites/jtj{hits[0]['url']}")).status_code == 200  # the URL serves it
    assert await found(platform, "wjw", "计价规则", expect_any=False) == []

    hits = await found(platform, "jtj", "公交准点")
    assert [(h["kind"], h["url"]) for h in hits] == [("survey", f"{PUBLIC}/surveys/{sid}")]
    assert await found(platform, "wjw", "公交准点", expect_any=False) == []

    hits = await found(platform, "jtj", "停车难")
    assert [(h["kind"], h["status"], h["url"]) for h in hits] == [
        ("interview", "scheduled", f"{PUBLIC}/interviews/{iid}")
    ]
    assert await found(platform, "wjw", "停车难", expect_any=False) == []
    assert await found(platform, "jtj", "停车难", expect_any=False, kind="survey") == []

    # Closed, it stays findable, with its status.
    closed = await client.post(f"{BASE}/surveys/{sid}/close", headers=editor)
    assert closed.status_code == 200, closed.text
    # (a query not asked before: the gateway keeps a search answer for a few seconds)
    for _ in range(50):
        hits = await found(platform, "jtj", "满意度调查")
        if hits and hits[0]["status"] == "closed":
            break
        await asyncio.sleep(0.2)
    assert [(h["kind"], h["status"]) for h in hits] == [("survey", "closed")]
