"""Running the interaction service alone, with tokens from a test issuer and a stand-in review."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.interaction.service.pages import PageMatch
from services.kernel import clock
from tests.support.services import running_service
from tests.support.subscriptions import relay  # noqa: F401  (the gateway subscription tests' relay)
from tests.support.tokens import TestIssuer

SITE = "jtj"
OTHER_SITE = "wjw"
SPAM = "澳门新葡京"

MAILBOX = {
    "name": "交通局互动交流",
    "allow_anonymous": True,
    "departments": {"yzc": "运政处", "gls": "公路处"},
    "deadlines": {"complaint": {"ordinary": 3, "complex": 10}},
}

# 2027 as an operator would enter it (dates of the hypothetical notice used by the tests).
TABLE_2027 = {
    "holidays": [
        {"date": "2027-01-01", "name": "元旦"},
        {"date": "2027-01-02", "name": "元旦"},
        {"date": "2027-01-03", "name": "元旦"},
    ],
    "workdays": [],
    "note": "国办发明电〔2026〕X号（测试）",
}


async def fake_review(text: str) -> tuple[bool, list[dict[str, Any]]]:
    """What resources' checks answer for the tests' texts: spam blocks, privacy only informs."""
    if SPAM in text:
        return True, [{"kind": "spam", "severity": "block", "rule": "spam.casino-brand", "excerpt": SPAM}]
    return False, []


async def fake_pages(site: str, url: str) -> PageMatch:
    """Content's answer for the tests' URLs: item 42 is in column 7, edited by ed7."""
    if url.endswith("/items/42"):
        return PageMatch(publication_id=42, column_id=7, responsible_editor="ed7")
    return PageMatch()


class Actors:
    def __init__(self, issuer: TestIssuer) -> None:
        self.citizen = issuer.headers("c1", [("citizen", None)], site=SITE, name="王小明")
        self.other_citizen = issuer.headers("c2", [("citizen", None)], site=SITE, name="李四")
        self.handler = issuer.headers("h1", [("editor", SITE)], site=SITE, name="承办人")
        self.other_handler = issuer.headers("h2", [("editor", OTHER_SITE)], site=SITE)
        self.site_admin = issuer.headers("sa", [("site_admin", SITE)], site=SITE)
        self.admin = issuer.headers("root", [("platform_admin", None)], site=SITE)
        self.anonymous = {"X-Jiyue-Site": SITE}


@pytest.fixture
def actors(issuer: TestIssuer) -> Actors:
    return Actors(issuer)


@pytest.fixture(autouse=True)
def _clock() -> Any:
    yield
    clock.reset()


@pytest.fixture
async def service(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    async with running_service("interaction", tmp_path / "var", issuer) as (app, client):
        app.state.ctx.state.review = fake_review
        app.state.ctx.state.pages = fake_pages
        yield app, client


@pytest.fixture
async def client(service: tuple[Any, httpx.AsyncClient], actors: Actors) -> httpx.AsyncClient:
    c = service[1]
    resp = await c.put("/api/interaction/v1/mailbox", json=MAILBOX, headers=actors.site_admin)
    assert resp.status_code == 200, resp.text
    return c


def letter(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "recipient": "yzc",
        "title": "出租车拒载",
        "body": "昨晚在火车站遇到出租车拒载，请核查。",
        "publish_consent": True,
    }
    body.update(overrides)
    return body
