"""Subscriptions to the state of one's own letters, end to end through the gateway with the
real identity and a loopback SMTP server: the writer hears of each new state in the priority
lane; another subscribed citizen hears nothing of it; an anonymous letter tells nobody."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select
from sqlmodel import col

from services.interaction.models import SubscriptionDelivery
from services.kernel.db import Database
from tests.interaction.conftest import MAILBOX
from tests.support.platform import Platform
from tests.support.publishing import eventually
from tests.support.subscriptions import API, PUBLIC, SITE, Relay, link, register, scene, subscribe_confirmed

LETTERS = f"/sites/{SITE}/api/interaction/v1/letters"
WRITER = "writer@example.com"
NEIGHBOUR = "neighbour@example.com"


async def _notices(db: Database) -> list[SubscriptionDelivery]:
    async with db.session() as session:
        stmt = (
            select(SubscriptionDelivery)
            .where(col(SubscriptionDelivery.letter_id).is_not(None))
            .order_by(col(SubscriptionDelivery.id))
        )
        return list((await session.execute(stmt)).scalars())


async def test_a_writer_hears_of_their_own_letters_states_and_nobody_else_does(
    tmp_path: Path, relay: Relay
) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        gw = platform.gateway
        db = gw.local_apps["interaction"].state.ctx.db
        seen = await scene(gw, c, ["通知公告"], "zhangsan", roles=("site_admin",))
        handler, writer = seen.people["editor"], seen.citizen
        neighbour = await register(c, "lisi", "李四")
        mailbox = {**MAILBOX, "refusal_reasons": None}
        assert (
            await c.put(
                f"/sites/{SITE}/api/interaction/v1/mailbox", json=mailbox, headers=seen.people["site_admin"]
            )
        ).status_code == 200

        # Bad input: no digest for letters' states, no column or keywords with them; nothing stored.
        for body in (
            {"target": "letters", "email": WRITER, "rhythm": "daily"},
            {"target": "letters", "email": WRITER, "column_id": seen.columns["通知公告"]},
            {"target": "letters", "email": WRITER, "keywords": ["医保"]},
        ):
            resp = await c.post(API, json=body, headers=writer)
            assert resp.status_code == 422, (body, resp.text)
        assert (await c.get(API, headers=writer)).json()["items"] == []

        mine = await subscribe_confirmed(c, relay, writer, {"target": "letters", "email": WRITER})
        assert mine["target"] == "letters"
        await subscribe_confirmed(c, relay, neighbour, {"target": "letters", "email": NEIGHBOUR})
        confirmations = {a: len(relay.inbox.to(a)) for a in (WRITER, NEIGHBOUR)}

        letter = {
            "kind": "complaint",
            "recipient": "yzc",
            "title": "公交站牌被撤",
            "body": "小区门口公交站牌被撤，请恢复。",
        }
        made = await c.post(LETTERS, json={**letter, "publish_consent": True}, headers=writer)
        assert made.status_code == 201, made.text
        lid = made.json()["id"]
        other = await c.post(LETTERS, json={**letter, "title": "又一封信"}, headers=writer)
        assert other.status_code == 201, other.text
        anonymous = await c.post(LETTERS, json={**letter, "title": "匿名来信", "anonymous": True})
        assert anonymous.status_code == 201, anonymous.text

        for step, payload in (
            ("accept", {"complexity": "ordinary"}),
            ("assign", {"org": "yzc", "note": "运政处办理"}),  # not a state the writer is told of
            ("reply", {"text": "经核查，站牌已恢复。"}),
            ("publish", {}),
        ):
            resp = await c.post(f"{LETTERS}/{lid}/{step}", json=payload, headers=handler)
            assert resp.status_code == 200, (step, resp.text)
        refused = await c.post(
            f"{LETTERS}/{other.json()['id']}/refuse",
            json={"reason": "duplicate", "note": ""},
            headers=handler,
        )
        assert refused.status_code == 200, refused.text
        accepted = await c.post(
            f"{LETTERS}/{anonymous.json()['id']}/accept", json={"complexity": "ordinary"}, headers=handler
        )
        assert accepted.status_code == 200, accepted.text

        got = (await relay.mails(WRITER, confirmations[WRITER] + 4))[confirmations[WRITER] :]
        subjects = sorted(str(m["Subject"]) for m in got)
        assert subjects == sorted(
            [
                "您的来信已受理：公交站牌被撤",
                "您的来信已答复：公交站牌被撤",
                "您的来信已公开：公交站牌被撤",
                "您的来信不予受理：又一封信",
            ]
        )
        first = got[0]
        assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = link(first, "/unsubscribe?token=")
        assert str(first["List-Unsubscribe"]) == f"<{PUBLIC}{unsubscribe}>"
        plain = first.get_body(("plain",))
        assert (
            plain is not None and f"{PUBLIC}/sites/{SITE}/api/interaction/v1/letters/" in plain.get_content()
        )

        # Every notice went in the priority lane, to the writer's subscription only.
        # The relay has every message before the sender writes its row "sent": wait for that.
        await eventually(
            lambda: _notices(db), lambda ns: len(ns) == 4 and all(n.status == "sent" for n in ns)
        )
        notices = await _notices(db)
        assert len(notices) == 4 and {n.subscription_id for n in notices} == {mine["id"]}
        assert all(n.priority and n.status == "sent" for n in notices)
        assert len(relay.inbox.to(NEIGHBOUR)) == confirmations[NEIGHBOUR]

        # Unsubscribed with one click: the next state change tells nobody.
        gone = await c.post(
            unsubscribe,
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert gone.status_code == 200 and gone.json()["status"] == "unsubscribed", gone.text
        third = await c.post(LETTERS, json={**letter, "title": "第三封信"}, headers=writer)
        assert third.status_code == 201, third.text
        done = await c.post(
            f"{LETTERS}/{third.json()['id']}/accept", json={"complexity": "ordinary"}, headers=handler
        )
        assert done.status_code == 200, done.text
        assert len(await _notices(db)) == 4

        async def quiet() -> httpx.Response:
            return httpx.Response(200 if len(relay.inbox.to(WRITER)) > confirmations[WRITER] + 4 else 204)

        assert (await eventually(quiet, lambda r: r.status_code == 200, seconds=1.0)).status_code == 204
