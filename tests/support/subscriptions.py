"""Shared steps of the subscription tests through the gateway: a loopback relay that can go away
and come back, a site with an editor, a reviewer and a registered citizen, subscribing with a
confirmed address, and reading what arrived."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlmodel import col

from services.interaction.models import SubscriptionDelivery, SubscriptionItem
from services.kernel import clock
from services.kernel.db import Database
from tests.identity.helpers import FAST_ARGON2, bearer, make_user, strong_password, user_token
from tests.support.publishing import eventually, make_site
from tests.support.smtp import Inbox, _free_port

SITE = "jtj"
OTHER = "wjw"
API = f"/sites/{SITE}/api/interaction/v1/subscriptions"
PUBLIC = "https://www.jiyue.example"


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

    async def mails(self, address: str, count: int, seconds: float = 30) -> list[EmailMessage]:
        """What reached `address`, once at least `count` messages did (or the time ran out)."""

        async def probe() -> httpx.Response:
            return httpx.Response(200 if len(self.inbox.to(address)) >= count else 204)

        await eventually(probe, lambda r: r.status_code == 200, seconds=seconds)
        return self.inbox.to(address)


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


@dataclass
class Scene:
    """The site (and another one), its staff's and a citizen's bearer headers."""

    columns: dict[str, int]
    others: dict[str, int]
    people: dict[str, dict[str, str]]
    citizen: dict[str, str]


async def register(c: httpx.AsyncClient, username: str, display_name: str) -> dict[str, str]:
    password = strong_password()
    registered = await c.post(
        "/api/identity/v1/register",
        json={"username": username, "password": password, "display_name": display_name},
    )
    assert registered.status_code == 201, registered.text
    return bearer(await user_token(c, username, password))


async def scene(
    gw: Any, c: httpx.AsyncClient, columns: list[str], citizen: str, roles: tuple[str, ...] = ()
) -> Scene:
    """示范市交通运输局 online with `columns`, another site with one, an editor and a reviewer
    (plus `roles` of jtj's), and the registered citizen `citizen`."""
    content = gw.directory.client("content")
    made = await make_site(content, SITE, "示范市交通运输局", columns)
    others = await make_site(content, OTHER, "示范市卫生健康委员会", ["内部通知"])
    admin_token = await gw.directory.auth.token()
    people: dict[str, dict[str, str]] = {}
    for role in ("editor", "reviewer", *roles):
        name = f"{SITE}_{role}"
        _, password = await make_user(c, admin_token, name, [(role, SITE)])
        people[role] = bearer(await user_token(c, name, password))
    headers = await register(c, citizen, citizen)
    await eventually(lambda: c.get(f"/sites/{SITE}/api/content/v1/site"), lambda r: r.status_code == 200)
    return Scene(made, others, people, headers)


def link(message: EmailMessage, marker: str) -> str:
    """The gateway path of the one link in the plain text that contains `marker`."""
    text = message.get_body(("plain",))
    assert text is not None
    (line,) = [w for w in text.get_content().split() if marker in w]
    assert line.startswith(PUBLIC)
    return line[line.index(PUBLIC) + len(PUBLIC) :]


async def subscribe_confirmed(
    c: httpx.AsyncClient, relay: Relay, citizen: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Subscribe, wait for the confirmation mail, follow its link; returns the subscription."""
    before = len(relay.inbox.to(body["email"]))
    made = await c.post(API, json=body, headers=citizen)
    assert made.status_code == 201, made.text
    confirmation = (await relay.mails(body["email"], before + 1))[-1]
    confirmed = await c.post(link(confirmation, "/confirm?token="))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed", confirmed.text
    return dict(confirmed.json())


async def deliveries(db: Database, pid: int) -> tuple[bool, list[SubscriptionDelivery]]:
    """Whether the item reached the queue, and its deliveries."""
    async with db.session() as session:
        item = await session.get(SubscriptionItem, pid)
        stmt = select(SubscriptionDelivery).where(col(SubscriptionDelivery.publication_id) == pid)
        return item is not None, list((await session.execute(stmt)).scalars())


async def queued(db: Database, pid: int) -> httpx.Response:
    """200 once the item reached the queue (for `eventually`)."""
    seen, _ = await deliveries(db, pid)
    return httpx.Response(200 if seen else 204)
