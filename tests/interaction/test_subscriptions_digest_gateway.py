"""A daily digest end to end through the gateway: a citizen subscribes with the daily rhythm and
confirms; three items publish in one Shanghai day; nothing is mailed that day; once the day has
closed and the digest hour has come (the one clock moved), ONE message with all three arrives at
the loopback SMTP server, and its unsubscribe link works through the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest

from services.kernel import clock
from tests.support.platform import Platform
from tests.support.publishing import eventually, publish
from tests.support.subscriptions import API, Relay, deliveries, link, queued, scene, subscribe_confirmed

DAILY = "daily@example.com"
TITLES = ("关于春运期间道路管制的通知", "关于调整公交线路的通告", "关于开展道路安全检查的通知")


def _shanghai(day_offset: int, hour: int) -> datetime:
    """A Shanghai wall time `day_offset` days after the clock's current Shanghai date."""
    day = clock.now().astimezone(clock.SHANGHAI).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour), clock.SHANGHAI).astimezone(UTC)


async def test_a_daily_subscriber_gets_one_message_with_all_items_of_the_day(
    tmp_path: Path, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIYUE_SUBSCRIPTION_DIGEST_INTERVAL_SECONDS", "0.2")
    # Forward only (tokens are checked against the wall clock too): tomorrow 10:00 in Shanghai,
    # so all three items fall in one day whenever the test runs; the relay fixture resets it.
    clock.shift(_shanghai(1, 10) - clock.now())
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        db = platform.gateway.local_apps["interaction"].state.ctx.db
        seen = await scene(platform.gateway, c, ["通知公告"], "zhoub")
        notice = seen.columns["通知公告"]
        mine = await subscribe_confirmed(
            c, relay, seen.citizen, {"column_id": notice, "email": DAILY, "rhythm": "daily"}
        )
        assert mine["rhythm"] == "daily"
        day = clock.now().astimezone(clock.SHANGHAI).date().isoformat()

        pids = [await publish(c, "jtj", seen.people, notice, title) for title in TITLES]
        for pid in pids:
            await eventually(lambda pid=pid: queued(db, pid), lambda r: r.status_code == 200)
            _, rows = await deliveries(db, pid)
            assert [r.status for r in rows] == ["collected"]  # held for the digest, not sent
        assert len(relay.inbox.to(DAILY)) == 1  # only the confirmation, the day is still open

        clock.shift(_shanghai(1, 8) - clock.now())  # the next morning, past the digest hour (7)
        _, digest = await relay.mails(DAILY, 2)
        assert str(digest["Subject"]) == f"示范市交通运输局 信息汇总（{day}，共 3 条）"
        plain, html = digest.get_body(("plain",)), digest.get_body(("html",))
        assert plain is not None and html is not None
        text, markup = plain.get_content(), html.get_content()
        for pid, title in zip(pids, TITLES, strict=True):
            assert title in text and title in markup
            assert f"/sites/jtj/api/content/v1/items/{pid}" in text
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # The worker keeps looking: the day's digest is not sent twice.
        async def twice() -> httpx.Response:
            return httpx.Response(200 if len(relay.inbox.to(DAILY)) > 2 else 204)

        assert (await eventually(twice, lambda r: r.status_code == 200, seconds=1.0)).status_code == 204

        gone = await c.post(
            link(digest, "/unsubscribe?token="),
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert gone.status_code == 200 and gone.json()["status"] == "unsubscribed", gone.text
        assert [s["status"] for s in (await c.get(API, headers=seen.citizen)).json()["items"]] == [
            "unsubscribed"
        ]
