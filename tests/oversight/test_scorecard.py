"""A site made stale by moving the clock: exactly the veto items the rules name, warned first, once each."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.kernel import clock
from services.oversight.models import feed_tables
from services.oversight.service.freshness import ColumnFacts, Rules, score
from services.oversight.vocab import ColumnCategory, Indicator, Level
from services.oversight.workers import evaluate_all
from tests.identity.helpers import FAST_ARGON2, bearer, make_user, user_token
from tests.support.platform import Platform

CONTENT = "/api/content/v1"
DYNAMIC = [f"工作动态{i}" for i in range(1, 7)]


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    yield
    clock.reset()


def test_blank_and_long_stale_columns_follow_their_own_lines() -> None:
    now = clock.now()
    old = now - timedelta(days=400)
    columns = [ColumnFacts(i, f"空栏目{i}", "list", ColumnCategory.OTHER, None, None, None) for i in range(5)]
    columns += [
        ColumnFacts(10 + i, f"档案{i}", "list", ColumnCategory.OTHER, None, None, old) for i in range(10)
    ]
    columns.append(ColumnFacts(99, "单页", "single", ColumnCategory.OTHER, None, None, None))
    found = {f.indicator: f for f in score(columns, Rules.default(), now)}
    assert found[Indicator.BLANK_COLUMNS].level is Level.VETO and found[Indicator.BLANK_COLUMNS].value == 5
    assert found[Indicator.LONG_STALE_COLUMNS].level is Level.VETO
    assert found[Indicator.HOMEPAGE_STALE].level is Level.VETO  # nothing in 400 days
    assert found[Indicator.STALE_COLUMNS].level is Level.OK  # "other" columns have no 2-week rhythm


async def _eventually(fetch: Any, ok: Any, seconds: float = 15.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        resp = await fetch()
        if ok(resp) or time.monotonic() > deadline:
            return resp  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)


async def test_a_stale_site_is_warned_then_vetoed_with_evidence(tmp_path: Path) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        content = platform.gateway.directory.client("content")
        identity_token = await platform.gateway.directory.auth.token()
        site = {
            "code": "jyj",
            "name": "示范市教育局",
            "kind": "department",
            "domains": ["jyj.sfs.gov.cn"],
            "id_code": "bm99010020",
        }
        assert (await content.post(f"{CONTENT}/sites", json=site)).status_code == 201
        assert (
            await content.post(f"{CONTENT}/sites/jyj/status", json={"status": "online"})
        ).status_code == 200
        columns: dict[str, int] = {}
        for name in [*DYNAMIC, "通知公告"]:
            made = await content.post(
                f"{CONTENT}/sites/jyj/columns", json={"name": name, "review_chain": ["reviewer"]}
            )
            assert made.status_code == 201, made.text
            columns[name] = int(made.json()["id"])
        people = {}
        for name, role in (
            ("jyj_editor", "editor"),
            ("jyj_reviewer", "reviewer"),
            ("jyj_auditor", "auditor"),
        ):
            _, password = await make_user(c, identity_token, name, [(role, "jyj")])
            people[role] = bearer(await user_token(c, name, password))
        await _eventually(lambda: c.get("/sites/jyj/api/content/v1/site"), lambda r: r.status_code == 200)
        for name, column_id in columns.items():
            await _publish(c, people, column_id, f"{name}：本周工作情况")

        card_url = "/api/oversight/v1/sites/jyj/scorecard"
        fresh = await _eventually(
            lambda: c.get(card_url, headers=people["auditor"]),
            lambda r: r.status_code == 200 and _blank(r.json()) == 0,
        )
        assert fresh.status_code == 200, fresh.text
        assert fresh.json()["passed"] is True
        assert {i["level"] for i in fresh.json()["indicators"]} == {"ok"}
        assert (await c.get(card_url, headers=people["editor"])).status_code == 403

        ctx = platform.gateway.local_apps["oversight"].state.ctx
        clock.shift(timedelta(days=11))
        assert await evaluate_all(ctx.db, feed_tables) == 2  # homepage and stale columns: warnings
        assert await evaluate_all(ctx.db, feed_tables) == 0  # told once
        card = (await c.get(card_url, headers=people["auditor"])).json()
        levels = {i["indicator"]: i["level"] for i in card["indicators"]}
        assert levels == {
            "homepage_stale": "warning",
            "stale_columns": "warning",
            "long_stale_columns": "ok",
            "blank_columns": "ok",
            "unavailable": "ok",
            "unanswered_messages": "ok",
            "broken_links": "ok",
            "security_incident_unhandled": "ok",  # no incident on this site
        }
        assert card["passed"] is True

        clock.shift(timedelta(days=4))  # 15 days without an update
        assert await evaluate_all(ctx.db, feed_tables) == 2  # now vetoes
        card = (await c.get(card_url, headers=people["auditor"])).json()
        vetoes = {i["indicator"]: i for i in card["indicators"] if i["level"] == "veto"}
        assert set(vetoes) == {"homepage_stale", "stale_columns"} and card["passed"] is False
        stale = vetoes["stale_columns"]
        assert stale["value"] == 6
        assert sorted(e["name"] for e in stale["evidence"]) == sorted(DYNAMIC)  # not 通知公告 (6 months)
        assert all(e["idle_days"] == 15 for e in stale["evidence"]), stale["evidence"]
        assert all(e["last_update"].endswith("+08:00") for e in stale["evidence"]), stale["evidence"]

        alerts = (await c.get("/api/oversight/v1/sites/jyj/alerts", headers=people["auditor"])).json()
        assert [(a["indicator"], a["level"]) for a in alerts["items"]] == [
            ("homepage_stale", "warning"),
            ("stale_columns", "warning"),
            ("homepage_stale", "veto"),
            ("stale_columns", "veto"),
        ]

        clock.reset()  # an update arrives: the causes go, the alerts resolve
        assert await evaluate_all(ctx.db, feed_tables) == 0
        alerts = (await c.get("/api/oversight/v1/sites/jyj/alerts", headers=people["auditor"])).json()
        assert all(a["resolved_at"] for a in alerts["items"])


def _blank(card: dict[str, Any]) -> int:
    """How many columns oversight still sees without an item (0 once every publication arrived)."""
    return next(int(i["value"]) for i in card["indicators"] if i["indicator"] == "blank_columns")


async def _publish(
    c: httpx.AsyncClient, people: dict[str, dict[str, str]], column_id: int, title: str
) -> None:
    body = {
        "metadata": {
            "title": title,
            "issuer_org": {"code": "jyj", "name": "示范市教育局"},
            "genre": "tongzhi",
        },
        "body_html": f"<p>{title}。</p>",
        "scope": "own_site",
    }
    made = await c.post("/sites/jyj/api/resources/v1/resources", json=body, headers=people["editor"])
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    stored = await c.post(f"/sites/jyj/api/resources/v1/resources/{rid}/store", headers=people["editor"])
    assert stored.status_code == 200, stored.text
    placed = await c.post(
        f"{CONTENT}/sites/jyj/publications",
        json={"column_id": column_id, "resource_id": rid, "resource_version": stored.json()["version"]},
        headers=people["editor"],
    )
    assert placed.status_code == 201, placed.text
    pid = placed.json()["id"]
    check = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
    for action, who, extra in (
        ("submit", "editor", {}),
        ("approve", "reviewer", check),
        ("publish", "editor", {}),
    ):
        done = await c.post(f"{CONTENT}/publications/{pid}/{action}", json=extra, headers=people[who])
        assert done.status_code == 200, (action, done.text)
