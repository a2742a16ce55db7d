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


async def test_withdrawn_items_leave_the_public_pages_and_search_and_stay_on_record(
    platform: Platform, issuer: TestIssuer
) -> None:
    client = platform.client
    editor = issuer.headers("ed", [("editor", "jtj")], name="编辑")
    citizen = issuer.headers("c1", [("citizen", None)], name="王小明")
    people = People(issuer, site_header=False)
    reason = {"reason": "征求意见稿内容有误，撤回后重新发布"}

    consultation = {
        "title": "《示范市共享单车停放管理办法（征求意见稿）》",
        "summary": "欢迎提出意见。",
        "paragraphs": [{"anchor": "art-1", "text": "第一条 共享单车应当在电子围栏内规范停放。"}],
        "attachments": [],
        **_window(),
    }
    cid = (await client.post(f"{BASE}/consultations", json=consultation, headers=editor)).json()["id"]
    draft = await client.post(f"{BASE}/consultations/{cid}/withdraw", json=reason, headers=editor)
    assert draft.status_code == 409, draft.text  # a draft was never public
    assert (await client.post(f"{BASE}/consultations/{cid}/open", headers=editor)).status_code == 200
    survey = {
        "title": "城市慢行系统出行调查",
        "description": "请评价步行道连续性。",
        "questions": [{"id": "q1", "kind": "scale", "text": "总体满意度", "scale_max": 5}],
        **_window(),
    }
    sid = (await client.post(f"{BASE}/surveys", json=survey, headers=editor)).json()["id"]
    assert (await client.post(f"{BASE}/surveys/{sid}/open", headers=editor)).status_code == 200
    answered = await client.put(f"{BASE}/surveys/{sid}/answer", json={"answers": {"q1": 4}}, headers=citizen)
    assert answered.status_code == 200, answered.text
    made = await client.post(
        f"{BASE}/interviews", json=interview_body(title="聚焦城市慢行系统建设"), headers=people.editor
    )
    iid = made.json()["id"]

    assert [h["kind"] for h in await found(platform, "jtj", "电子围栏")] == ["consultation"]
    assert [h["kind"] for h in await found(platform, "jtj", "步行道连续性")] == ["survey"]
    assert [h["kind"] for h in await found(platform, "jtj", "慢行系统建设")] == ["interview"]

    refused = await client.post(f"{BASE}/consultations/{cid}/withdraw", json=reason, headers=citizen)
    assert refused.status_code in (403, 404), refused.text
    empty = await client.post(f"{BASE}/surveys/{sid}/withdraw", json={"reason": ""}, headers=editor)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason", empty.text
    for path in (f"consultations/{cid}", f"surveys/{sid}"):
        done = await client.post(f"{BASE}/{path}/withdraw", json=reason, headers=editor)
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["withdrawn_reason"]) == ("withdrawn", reason["reason"])
        again = await client.post(f"{BASE}/{path}/withdraw", json=reason, headers=editor)
        assert again.status_code == 409, again.text
    assert (await client.post(f"{BASE}/interviews/{iid}/start", headers=people.host)).status_code == 200
    live = await client.post(f"{BASE}/interviews/{iid}/withdraw", json=reason, headers=people.editor)
    assert live.status_code == 409, live.text  # its readers are told it ended first
    assert (await client.post(f"{BASE}/interviews/{iid}/end", headers=people.host)).status_code == 200
    done = await client.post(f"{BASE}/interviews/{iid}/withdraw", json=reason, headers=people.editor)
    assert done.status_code == 200 and done.json()["status"] == "withdrawn", done.text

    # Gone from every public page, the survey's results and the interview's stream included …
    for path in (
        f"public/consultations/{cid}",
        f"public/consultations/{cid}/comments",
        f"public/surveys/{sid}",
        f"public/surveys/{sid}/results",
        f"public/interviews/{iid}",
        f"public/interviews/{iid}/transcript",
        f"public/interviews/{iid}/stream",
    ):
        assert (await client.get(f"{BASE}/{path}")).status_code == 404, path
    for kind, ident in (("consultations", cid), ("surveys", sid), ("interviews", iid)):
        for status in (None, "withdrawn"):
            listed = await client.get(f"{BASE}/public/{kind}", params={"status": status} if status else {})
            assert listed.status_code == 200, listed.text
            assert ident not in [i["id"] for i in listed.json()["items"]], (kind, status)
    answer = await client.put(f"{BASE}/surveys/{sid}/answer", json={"answers": {"q1": 2}}, headers=citizen)
    assert answer.status_code == 404, answer.text

    # … and from site search (queries not asked before: the gateway keeps answers a few seconds).
    for q in ("规范停放", "出行调查", "慢行系统"):
        assert await found(platform, "jtj", q, expect_any=False) == [], q

    # On record for the staff and on the feed: who withdrew it, and no public face to index.
    staff = (await client.get(f"{BASE}/consultations/{cid}", headers=editor)).json()
    assert (staff["status"], staff["withdrawn_reason"]) == ("withdrawn", reason["reason"])
    assert (await client.get(f"{BASE}/surveys/{sid}", headers=editor)).json()["status"] == "withdrawn"
    internal = issuer.headers("root", [("platform_admin", None)])
    events = (await client.get("/api/interaction/v1/changes", headers=internal)).json()["items"]
    withdrawn = [e for e in events if e["topic"].endswith(".withdrawn")]
    assert [e["topic"] for e in withdrawn] == [
        "consultation.withdrawn",
        "survey.withdrawn",
        "interview.withdrawn",
    ]
    assert all(e["payload"]["status"] == "withdrawn" and "listing" not in e["payload"] for e in withdrawn)
