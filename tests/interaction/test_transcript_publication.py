"""An archived interview's transcript becomes a content publication through the gateway: real
identity accounts, the real machine review, library and review chain; only approved questions
reach the published page, in stream order, and the interview links to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from services.interaction.models import Interview
from services.interaction.service import transcripts
from services.interaction.service.transcripts import Pace
from services.kernel import clock
from services.kernel.outbound import OutboundClient, OutboundPolicy
from services.oversight.state import OversightState
from tests.identity.helpers import bearer, make_user, user_token
from tests.oversight.helpers import CONTENT, eventually, make_site
from tests.support.platform import Platform

SITE = "jtj"
BASE = f"/sites/{SITE}/api/interaction/v1"
PHONE = "13812345678"
VIDEO = "https://video.jtj.example.gov.cn/live/20261203.mp4"
IMAGE = "https://www.jtj.example.gov.cn/img/bus-lines.jpg"


def _outside(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, stream=httpx.ByteStream(b""))


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


@pytest.fixture
async def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Platform]:
    monkeypatch.setenv("JIYUE_INTERVIEW_TRANSCRIPT_POLL_SECONDS", "0.2")
    async with Platform.start(tmp_path / "var") as p:
        # oversight's link check of published pages must not leave loopback
        state = p.gateway.local_apps["oversight"].state.ctx.state_of(OversightState)
        state.outbound = OutboundClient(
            OutboundPolicy(), inner=httpx.MockTransport(_outside), resolver=_public
        )
        yield p
    clock.reset()


async def _people(platform: Platform) -> dict[str, Any]:
    c, gw = platform.client, platform.gateway
    admin = await gw.directory.auth.token()
    people: dict[str, Any] = {}
    accounts: list[tuple[str, str | None, str | None]] = [
        ("jtj_host", "editor", SITE),
        ("jtj_guest", "site_admin", SITE),
        ("jtj_reviewer", "reviewer", SITE),
        ("citizen_a", None, None),  # a registered person with no staff role
        ("citizen_b", None, None),
    ]
    for name, role, site in accounts:
        uid, password = await make_user(c, admin, name, [(role, site)] if role else [])
        people[name] = {"id": uid, "headers": bearer(await user_token(c, name, password))}
    return people


async def test_the_archived_transcript_is_published_through_content_review(platform: Platform) -> None:
    c, gw = platform.client, platform.gateway
    columns = await make_site(
        gw.directory.client("content"), SITE, "示范市交通运输局", ["通知公告", "在线访谈"]
    )
    people = await _people(platform)
    host, guest = people["jtj_host"], people["jtj_guest"]
    await eventually(lambda: c.get(f"/sites/{SITE}/api/content/v1/site"), lambda r: r.status_code == 200)

    start = clock.now() + timedelta(minutes=5)
    schedule = {
        "title": "聚焦城市公交线网优化",
        "summary": "市交通运输局负责同志在线答问",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "host": {"user_id": host["id"], "title": "主持人"},
        "guests": [{"user_id": guest["id"], "title": "市交通运输局局长"}],
    }
    made = await c.post(f"{BASE}/interviews", json=schedule, headers=host["headers"])
    assert made.status_code == 201, made.text
    iid = made.json()["id"]

    async def ask(text: str, who: str) -> int:
        resp = await c.post(
            f"{BASE}/interviews/{iid}/questions", json={"text": text}, headers=people[who]["headers"]
        )
        assert resp.status_code == 201, resp.text
        assert resp.json()["status"] == "pending", resp.text
        return int(resp.json()["id"])

    approved = await ask(f"公交站能否加装遮雨棚？我的电话{PHONE}", "citizen_a")
    unapproved = await ask("夜班公交能否延长到凌晨一点？", "citizen_b")
    resp = await c.post(f"{BASE}/interviews/{iid}/questions/{approved}/approve", headers=host["headers"])
    assert resp.status_code == 200, resp.text
    assert (await c.post(f"{BASE}/interviews/{iid}/start", headers=host["headers"])).status_code == 200
    note = {"text": "欢迎各位网友参与今天的在线访谈。"}
    assert (
        await c.post(f"{BASE}/interviews/{iid}/notes", json=note, headers=host["headers"])
    ).status_code == 201
    answer = {
        "text": "今年将在主干道站点加装遮雨棚。",
        "question_id": approved,
        "media": [
            {"kind": "image", "url": IMAGE, "caption": "新线路图"},
            {"kind": "video", "url": VIDEO, "caption": "现场视频"},
        ],
    }
    resp = await c.post(f"{BASE}/interviews/{iid}/answers", json=answer, headers=guest["headers"])
    assert resp.status_code == 201, resp.text
    ended = await c.post(f"{BASE}/interviews/{iid}/end", headers=host["headers"])
    assert ended.status_code == 200 and ended.json()["publication"] is None

    archived = await c.post(f"{BASE}/interviews/{iid}/archive", headers=host["headers"])
    assert archived.status_code == 200, archived.text
    assert archived.json()["publication"]["column_id"] == columns["在线访谈"]

    page = f"{BASE}/public/interviews/{iid}"
    queued = await eventually(lambda: c.get(page), lambda r: r.json()["publication"]["state"] != "pending")
    publication = queued.json()["publication"]
    assert publication["state"] == "in_review", publication
    pid = publication["publication_id"]
    assert (
        publication["resource_id"]
        and publication["resource_version"] == 1
        and publication["published_url"] is None
    )

    # A crash after content made the publication but before its id was written down: the retry
    # finds that publication (of this resource, in this column) instead of making a second one.
    ctx = gw.local_apps["interaction"].state.ctx
    async with ctx.db.session() as session:
        await session.execute(
            update(Interview)
            .where(col(Interview.id) == iid)
            .values(transcript_state="pending", transcript_publication_id=None, transcript_next_at=0.0)
        )
    pace = Pace(lease=60.0, max_attempts=3, retry_base=1.0, genre="qita")
    secret = ctx.settings.internal_client_secret
    # the background worker may get there first; either way it is done once
    tried = await transcripts.publish_due(ctx.db, ctx.directory, secret, pace)
    resumed = await eventually(lambda: c.get(page), lambda r: r.json()["publication"]["state"] == "in_review")
    assert resumed.json()["publication"]["publication_id"] == pid and tried in (0, 1)
    assert await transcripts.publish_due(ctx.db, ctx.directory, secret, pace) == 0  # nothing pending
    listed = (
        await gw.directory.client("content").get(
            f"{CONTENT}/sites/{SITE}/publications", params={"column_id": columns["在线访谈"]}
        )
    ).json()
    assert [p["id"] for p in listed["items"]] == [pid] and listed["items"][0]["status"] == "in_review"

    reviewer = people["jtj_reviewer"]["headers"]
    # The reviewer sends it back: interaction follows content's feed and shows it on the interview;
    # archiving again resubmits the same publication (revised in content), not a second one.
    sent_back = await c.post(
        f"{CONTENT}/publications/{pid}/reject", json={"opinion": "请补充访谈现场图片说明"}, headers=reviewer
    )
    assert sent_back.status_code == 200, sent_back.text
    rejected = await eventually(lambda: c.get(page), lambda r: r.json()["publication"]["state"] == "rejected")
    assert rejected.json()["publication"]["state"] == "rejected", rejected.json()
    assert rejected.json()["publication"]["publication_id"] == pid
    again = await c.post(f"{BASE}/interviews/{iid}/archive", headers=host["headers"])
    assert again.status_code == 200, again.text
    resubmitted = await eventually(
        lambda: c.get(page), lambda r: r.json()["publication"]["state"] == "in_review"
    )
    assert resubmitted.json()["publication"]["publication_id"] == pid
    current = (await gw.directory.client("content").get(f"{CONTENT}/publications/{pid}")).json()
    assert current["status"] == "in_review", current
    check = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
    approve = await c.post(f"{CONTENT}/publications/{pid}/approve", json=check, headers=reviewer)
    assert approve.status_code == 200, approve.text
    published = await c.post(f"{CONTENT}/publications/{pid}/publish", json={}, headers=host["headers"])
    assert published.status_code == 200, published.text

    item = await c.get(f"/sites/{SITE}/api/content/v1/items/{pid}")
    assert item.status_code == 200, item.text
    body = item.json()["body_html"]
    # stream order: approved before the start, then the host's welcome, then the answer
    order = ["公交站能否加装遮雨棚", "欢迎各位网友", "今年将在主干道站点"]
    assert all(text in body for text in order), body
    assert [body.index(t) for t in order] == sorted(body.index(t) for t in order)
    assert "夜班公交" not in body and PHONE not in body
    assert VIDEO in body and IMAGE in body

    linked = await eventually(lambda: c.get(page), lambda r: r.json()["publication"]["state"] == "published")
    publication = linked.json()["publication"]
    assert publication["state"] == "published" and publication["publication_id"] == pid
    assert publication["published_url"] and str(pid) in publication["published_url"]
    assert unapproved  # asked, never approved: absent above
