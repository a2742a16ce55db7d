"""A citizen's e-mail subscription end to end through the gateway, with the real identity,
content and feed, and a real SMTP server on loopback that is stopped and started again."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlmodel import col

from services.interaction.models import SubscriptionDelivery, SubscriptionItem
from services.kernel import clock
from services.kernel.db import Database
from tests.identity.helpers import FAST_ARGON2, bearer, make_user, strong_password, user_token
from tests.oversight.helpers import CONTENT, eventually, make_site
from tests.support.platform import Platform
from tests.support.smtp import Inbox, _free_port

SITE = "jtj"
OTHER = "wjw"
API = f"/sites/{SITE}/api/interaction/v1/subscriptions"
PUBLIC = "https://www.jiyue.example"
EMAIL = "wxm@example.com"


class Relay:
    """A loopback SMTP server that can go away and come back on the same port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[Relay]:
    r = Relay()
    env = {
        **FAST_ARGON2,
        "JIYUE_SMTP_HOST": "127.0.0.1",
        "JIYUE_SMTP_PORT": str(r.port),
        "JIYUE_SMTP_FROM": "dingyue@jiyue.example",
        "JIYUE_SMTP_TIMEOUT_SECONDS": "5",
        "JIYUE_SUBSCRIPTION_SECRET": "a-test-secret-of-enough-length",
        "JIYUE_SUBSCRIPTION_PUBLIC_URL": PUBLIC,
        "JIYUE_SUBSCRIPTION_IDLE_SECONDS": "0.1",
        "JIYUE_SUBSCRIPTION_RETRY_BASE_SECONDS": "0.2",
        "JIYUE_SUBSCRIPTION_RETRY_MAX_SECONDS": "0.5",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    r.start()
    try:
        yield r
    finally:
        r.stop()
        clock.reset()


async def publish(
    c: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    column_id: int,
    title: str,
    important: bool = False,
) -> int:
    body = {
        "metadata": {"title": title, "issuer_org": {"code": SITE, "name": SITE}, "genre": "tongzhi"},
        "body_html": f"<p>{title}。</p>",
        "scope": "own_site",
    }
    made = await c.post(f"/sites/{SITE}/api/resources/v1/resources", json=body, headers=people["editor"])
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    stored = await c.post(f"/sites/{SITE}/api/resources/v1/resources/{rid}/store", headers=people["editor"])
    assert stored.status_code == 200, stored.text
    placed = await c.post(
        f"{CONTENT}/sites/{SITE}/publications",
        json={
            "column_id": column_id,
            "resource_id": rid,
            "resource_version": stored.json()["version"],
            "important": important,
        },
        headers=people["editor"],
    )
    assert placed.status_code == 201, placed.text
    pid = int(placed.json()["id"])
    check = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
    for action, who, extra in (
        ("submit", "editor", {}),
        ("approve", "reviewer", check),
        ("publish", "editor", {}),
    ):
        done = await c.post(f"{CONTENT}/publications/{pid}/{action}", json=extra, headers=people[who])
        assert done.status_code == 200, (action, done.text)
    return pid


def _link(message: EmailMessage, marker: str) -> str:
    text = message.get_body(("plain",))
    assert text is not None
    (line,) = [w for w in text.get_content().split() if marker in w]
    assert line.startswith(PUBLIC)
    return line[line.index(PUBLIC) + len(PUBLIC) :]


async def _mails(relay: Relay, count: int) -> list[EmailMessage]:
    async def fetch() -> list[EmailMessage]:
        return relay.inbox.to(EMAIL)

    async def probe() -> httpx.Response:
        return httpx.Response(200 if len(await fetch()) >= count else 204)

    await eventually(probe, lambda r: r.status_code == 200, seconds=30)
    return await fetch()


async def _deliveries(db: Database, pid: int) -> tuple[bool, list[SubscriptionDelivery]]:
    async with db.session() as session:
        item = await session.get(SubscriptionItem, pid)
        stmt = select(SubscriptionDelivery).where(col(SubscriptionDelivery.publication_id) == pid)
        return item is not None, list((await session.execute(stmt)).scalars())


async def test_subscribe_confirm_receive_survive_a_relay_outage_and_unsubscribe(
    tmp_path: Path, relay: Relay
) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        gw = platform.gateway
        db = gw.local_apps["interaction"].state.ctx.db
        content = gw.directory.client("content")
        columns = await make_site(content, SITE, "示范市交通运输局", ["通知公告", "政策解读"])
        others = await make_site(content, OTHER, "示范市卫生健康委员会", ["内部通知"])
        admin_token = await gw.directory.auth.token()
        people: dict[str, dict[str, str]] = {}
        for name, role in (("jtj_editor", "editor"), ("jtj_reviewer", "reviewer")):
            _, password = await make_user(c, admin_token, name, [(role, SITE)])
            people[role] = bearer(await user_token(c, name, password))
        password = strong_password()
        registered = await c.post(
            "/api/identity/v1/register",
            json={"username": "wangxm", "password": password, "display_name": "王小明"},
        )
        assert registered.status_code == 201, registered.text
        citizen = bearer(await user_token(c, "wangxm", password))
        await eventually(lambda: c.get(f"/sites/{SITE}/api/content/v1/site"), lambda r: r.status_code == 200)

        # Bad input: a clear 4xx each, and nothing stored.
        notice = columns["通知公告"]
        for body, status in (
            ({"column_id": notice, "email": "not-an-address"}, 422),
            ({"column_id": notice, "email": "a b@example.com"}, 422),
            ({"column_id": notice, "email": EMAIL, "rhythm": "hourly"}, 422),
            ({"column_id": others["内部通知"], "email": EMAIL}, 404),  # another site's column
            ({"column_id": 987654, "email": EMAIL}, 404),
        ):
            resp = await c.post(API, json=body, headers=citizen)
            assert resp.status_code == status, (body, resp.text)
        assert (await c.post(API, json={"column_id": notice, "email": EMAIL})).status_code == 401
        assert (await c.get(API, headers=citizen)).json()["items"] == []

        made = await c.post(API, json={"column_id": notice, "email": EMAIL}, headers=citizen)
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "pending" and made.json()["confirmation_sent"] is True
        (confirmation,) = await _mails(relay, 1)
        confirm = _link(confirmation, "/confirm?token=")

        # Not yet confirmed: an item published now reaches nobody.
        early = await publish(c, people, notice, "确认前发布的通知")
        await eventually(lambda: _probe(db, early), lambda r: r.status_code == 200)
        assert (await _deliveries(db, early))[1] == []

        assert (await c.post(confirm + "x")).status_code == 422  # a forged signature
        confirmed = await c.post(confirm)
        assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
        mine = (await c.get(API, headers=citizen)).json()["items"]
        assert [(s["column_id"], s["email"], s["status"]) for s in mine] == [(notice, EMAIL, "confirmed")]

        important = await publish(c, people, notice, "关于春运期间道路管制的紧急通知", important=True)
        _, item_mail = await _mails(relay, 2)
        assert item_mail["Subject"] == "【重要】示范市交通运输局：关于春运期间道路管制的紧急通知"
        assert item_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        plain = item_mail.get_body(("plain",))
        assert plain is not None and f"/sites/{SITE}/api/content/v1/items/{important}" in plain.get_content()
        assert item_mail.get_body(("html",)) is not None
        unsubscribe = _link(item_mail, "/unsubscribe?token=")
        assert str(item_mail["List-Unsubscribe"]) == f"<{PUBLIC}{unsubscribe}>"

        # The relay goes away: the next item waits, retried, and lands when the relay is back.
        relay.stop()
        waited = await publish(c, people, notice, "停电期间发布的通知")
        await eventually(lambda: _probe(db, waited, tried=True), lambda r: r.status_code == 200)
        relay.start()
        *_, late = await _mails(relay, 3)
        assert late["Subject"] == "示范市交通运输局：停电期间发布的通知"

        # One click, no sign-in (RFC 8058 posts a form body); a second click answers the same.
        for _ in range(2):
            gone = await c.post(
                unsubscribe,
                content="List-Unsubscribe=One-Click",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert gone.status_code == 200 and gone.json()["status"] == "unsubscribed", gone.text
        after = await publish(c, people, notice, "退订后发布的通知")
        await eventually(lambda: _probe(db, after), lambda r: r.status_code == 200)
        assert (await _deliveries(db, after))[1] == []
        assert len(relay.inbox.to(EMAIL)) == 3


async def _probe(db: Database, pid: int, tried: bool = False) -> httpx.Response:
    """200 once the item reached the queue (and, with `tried`, a delivery of it failed once)."""
    seen, rows = await _deliveries(db, pid)
    ok = seen and (not tried or any(r.attempts >= 1 and r.status == "pending" for r in rows))
    return httpx.Response(200 if ok else 204)
