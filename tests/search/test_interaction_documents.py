"""Interaction's consultations, surveys and interviews in site search, on both engines alike:
found on their own site only, with their kind, status and public URL; gone once withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.kernel.feed import FeedEvent
from services.search.interaction import InteractionIndexer, search_id
from services.search.models import feed_tables
from tests.search.conftest import SearchHarness

URL = "/api/interaction/v1/public"


class FakeInteractionFeed:
    """Interaction's `/changes` as the consumer reads it: a list of events, in cursor order."""

    def __init__(self) -> None:
        self.events: list[FeedEvent] = []

    def emit(self, topic: str, site: str, payload: dict[str, Any]) -> None:
        self.events.append(
            FeedEvent(
                cursor=len(self.events) + 1,
                topic=topic,
                key=str(
                    payload.get("consultation_id") or payload.get("survey_id") or payload["interview_id"]
                ),
                site_id=site,
                payload=payload,
                created_at=datetime.now(UTC).isoformat(),
            )
        )

    async def __call__(self, after: int, limit: int) -> tuple[list[FeedEvent], int]:
        return self.events[after : after + limit], len(self.events)


def listing(title: str, text: str, path: str) -> dict[str, Any]:
    return {
        "title": title,
        "text": text,
        "published_at": "2026-12-01T09:00:00+08:00",
        "starts_at": "2026-12-01T09:00:00+08:00",
        "ends_at": "2026-12-31T17:00:00+08:00",
        "url": f"{URL}/{path}",
    }


async def catch_up(indexer: InteractionIndexer, feed: FakeInteractionFeed) -> None:
    for _ in range(20):
        await indexer.run_once()
        if (await indexer.status())["position"] == len(feed.events):
            return
    raise AssertionError("interaction indexer did not catch up")


def hits(resp: Any) -> list[tuple[str, str, str | None]]:
    assert resp.status_code == 200, resp.text
    return [(i["kind"], i["url"], i["status"]) for i in resp.json()["items"]]


async def test_interaction_items_are_found_per_site_and_removed_when_withdrawn(
    harness: SearchHarness,
) -> None:
    harness.content.publish(1, title="出租汽车行业管理情况通报", body_text="巡游出租汽车计价器检定。")
    await harness.catch_up()
    feed = FakeInteractionFeed()
    indexer = InteractionIndexer(harness.app.state.ctx.db, feed_tables, feed, backend=harness.backend)
    draft = "第二条 巡游车应当按规定安装计价器。"
    consultation = listing("出租汽车管理办法公开征求意见", f"欢迎提出意见。\n{draft}", "consultations/7")
    feed.emit("consultation.created", "jtj", {"consultation_id": 7, "status": "draft"})
    feed.emit("consultation.opened", "jtj", {"consultation_id": 7, "status": "open", "listing": consultation})
    feed.emit(
        "survey.opened",
        "jtj",
        {
            "survey_id": 7,
            "status": "open",
            "listing": listing("公交线路满意度调查", "请评价公交服务。", "surveys/7"),
        },
    )
    feed.emit(
        "interview.created",
        "jtj",
        {
            "interview_id": 3,
            "status": "scheduled",
            "last_event_id": 0,
            "listing": listing("局长谈城市交通治理", "在线访谈预告。", "interviews/3"),
        },
    )
    # A comment's event says nothing about the consultation's face and is not indexed.
    feed.emit("comment.approved", "jtj", {"consultation_id": 7, "status": "open", "comment_id": 1})
    await catch_up(indexer, feed)

    assert hits(await harness.search("计价器", site="jtj")) == [
        ("consultation", f"{URL}/consultations/7", "open")
    ]
    assert hits(await harness.search("计价器", site="other")) == []
    assert hits(await harness.search("公交", site="jtj")) == [("survey", f"{URL}/surveys/7", "open")]
    assert hits(await harness.search("交通治理", site="jtj")) == [
        ("interview", f"{URL}/interviews/3", "scheduled")
    ]
    assert hits(await harness.search("交通治理", site="other")) == []
    # content's publication on no site of these stays a publication
    everywhere = hits(await harness.search("出租汽车", scope="platform"))
    assert ("consultation", f"{URL}/consultations/7", "open") in everywhere
    assert ("publication", "/api/content/v1/items/1", None) in everywhere
    only = hits(await harness.search("出租汽车", scope="platform", kind="consultation"))
    assert only == [("consultation", f"{URL}/consultations/7", "open")]
    bad = await harness.search("出租汽车", site="jtj", kind="letter")
    assert bad.status_code == 422

    feed.emit(
        "consultation.closed", "jtj", {"consultation_id": 7, "status": "closed", "listing": consultation}
    )
    await catch_up(indexer, feed)
    assert hits(await harness.search("计价器", site="jtj")) == [
        ("consultation", f"{URL}/consultations/7", "closed")
    ]

    # Withdrawn: the event carries no public face any more, so the item leaves the index.
    feed.emit("consultation.withdrawn", "jtj", {"consultation_id": 7, "status": "withdrawn"})
    await catch_up(indexer, feed)
    assert hits(await harness.search("计价器", site="jtj")) == []
    assert hits(await harness.search("公交", site="jtj")) == [("survey", f"{URL}/surveys/7", "open")]
    assert search_id("consultation", 7) != search_id("survey", 7)
