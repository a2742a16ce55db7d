"""A security incident not handled in time (安全事件未及时处置) on a site moved through time:
machine review's tampering finding on a stored item opens it, the warning fires once, the veto
once with the incident's evidence, the take-down handles it; an operator records and handles one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.kernel import clock
from services.oversight.models import feed_tables
from services.oversight.workers import evaluate_all
from tests.identity.helpers import FAST_ARGON2, bearer, make_user, user_token
from tests.oversight.helpers import eventually, make_site
from tests.support.platform import Platform

SITE = "jyj"
API = f"/api/oversight/v1/sites/{SITE}"
# Machine review warns on this signature (an issuer that is neither a division nor the site's
# own organisation) but lets it be stored: the case that needs a person to look.
TAMPERED = "<p>各部门：</p><p>现印发给你们。</p><p>瑞禾盛人民政府办公室</p>"
INDICATOR = "security_incident_unhandled"


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    yield
    clock.reset()


PEOPLE: tuple[tuple[str, str, str | None], ...] = (
    ("jyj_editor", "editor", SITE),
    ("jyj_admin", "site_admin", SITE),
    ("jyj_auditor", "auditor", SITE),
    ("wsj_admin", "site_admin", "wsj"),
    ("ops", "platform_admin", None),
)


async def _people(c: httpx.AsyncClient, admin_token: str) -> dict[str, dict[str, str]]:
    people = {}
    for name, role, site in PEOPLE:
        _, password = await make_user(c, admin_token, name, [(role, site)])
        people[name] = bearer(await user_token(c, name, password))
    return people


def _incident_alerts(alerts: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(a["level"], a["resolved_at"]) for a in alerts["items"] if a["indicator"] == INDICATOR]


async def test_tampering_found_by_review_warns_then_vetoes_until_taken_down(tmp_path: Path) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        gw = platform.gateway
        content = gw.directory.client("content")
        oversight = gw.local_apps["oversight"].state.ctx
        await make_site(content, SITE, "示范市教育局", ["通知公告"])
        admin_token = await gw.directory.auth.token()
        people = await _people(c, admin_token)
        await eventually(lambda: c.get(f"/sites/{SITE}/api/content/v1/site"), lambda r: r.status_code == 200)

        doc = {
            "metadata": {
                "title": "关于印发管理办法的通知",
                "issuer_org": {"code": SITE, "name": "示范市教育局"},
                "genre": "tongzhi",
            },
            "body_html": TAMPERED,
            "scope": "own_site",
        }
        editor = people["jyj_editor"]
        made = await c.post(f"/sites/{SITE}/api/resources/v1/resources", json=doc, headers=editor)
        assert made.status_code == 201, made.text
        rid = made.json()["id"]
        stored = await c.post(f"/sites/{SITE}/api/resources/v1/resources/{rid}/store", headers=editor)
        assert stored.status_code == 200, stored.text
        assert any(f["rule"].startswith("tamper.") for f in stored.json()["findings"]), stored.text

        auditor = people["jyj_auditor"]
        listed = await eventually(
            lambda: c.get(f"{API}/incidents", headers=auditor), lambda r: r.json().get("total") == 1
        )
        (incident,) = listed.json()["items"]
        assert incident["kind"] == "tampering" and incident["source"] == "review", incident
        assert incident["url"] == f"/api/resources/v1/resources/{rid}" and incident["handled_at"] is None
        assert "瑞禾盛" in incident["description"]

        async def evaluate() -> list[tuple[str, str | None]]:
            await evaluate_all(oversight.db, feed_tables)
            alerts = await c.get(f"{API}/alerts", headers=auditor)
            assert alerts.status_code == 200, alerts.text
            return _incident_alerts(alerts.json())

        assert await evaluate() == []  # just found: within the warning line
        clock.shift(timedelta(hours=5))
        assert await evaluate() == [("warning", None)]
        assert await evaluate() == [("warning", None)]  # told once
        clock.shift(timedelta(hours=20))  # 25 h: past the handling deadline
        assert await evaluate() == [("warning", None), ("veto", None)]
        assert await evaluate() == [("warning", None), ("veto", None)]

        card = (await c.get(f"{API}/scorecard", headers=auditor)).json()
        assert card["passed"] is False
        veto = next(i for i in card["indicators"] if i["indicator"] == INDICATOR)
        assert (
            veto["level"] == "veto" and veto["value"] == 25 and (veto["warn_at"], veto["veto_at"]) == (4, 24)
        )
        (evidence,) = veto["evidence"]
        assert evidence["name"] == f"安全事件 #{incident['id']}（tampering）"
        assert evidence["url"] == incident["url"] and evidence["since"] == incident["opened_at"]

        # The platform administrator takes the item down: the incident is handled, the alerts resolve.
        down = await c.post(
            f"/api/resources/v1/resources/{rid}/takedown",
            json={"reason": "内容被篡改"},
            headers=people["ops"],
        )
        assert down.status_code == 200, down.text
        handled = await eventually(
            lambda: c.get(f"{API}/incidents", headers=auditor),
            lambda r: r.json()["items"][0]["handled_at"] is not None,
        )
        assert handled.json()["items"][0]["handled_by"] == "system"
        after = await evaluate()
        assert [level for level, _ in after] == ["warning", "veto"] and all(r for _, r in after), after
        card = (await c.get(f"{API}/scorecard", headers=auditor)).json()
        assert next(i for i in card["indicators"] if i["indicator"] == INDICATOR)["level"] == "ok"


async def test_an_operator_records_and_handles_an_incident(tmp_path: Path) -> None:
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        gw = platform.gateway
        content = gw.directory.client("content")
        oversight = gw.local_apps["oversight"].state.ctx
        await make_site(content, SITE, "示范市教育局", ["通知公告"])
        admin_token = await gw.directory.auth.token()
        people = await _people(c, admin_token)
        await eventually(
            lambda: c.get(f"{API}/scorecard", headers=people["jyj_auditor"]), lambda r: r.status_code == 200
        )
        body = {
            "kind": "dark_links",
            "url": "https://jyj.sfs.gov.cn/index.html",
            "description": "首页发现暗链",
        }
        for who in ("jyj_editor", "jyj_auditor", "wsj_admin"):
            refused = await c.post(f"{API}/incidents", json=body, headers=people[who])
            assert refused.status_code == 403, (who, refused.text)
        bad = await c.post(f"{API}/incidents", json={**body, "kind": "rumour"}, headers=people["jyj_admin"])
        assert bad.status_code == 422, bad.text
        made = await c.post(f"{API}/incidents", json=body, headers=people["jyj_admin"])
        assert made.status_code == 201, made.text
        incident = made.json()
        assert incident["source"] == "operator" and incident["recorded_by"] and incident["handled_at"] is None

        clock.shift(timedelta(hours=25))
        await evaluate_all(oversight.db, feed_tables)
        card = (await c.get(f"{API}/scorecard", headers=people["jyj_auditor"])).json()
        veto = next(i for i in card["indicators"] if i["indicator"] == INDICATOR)
        assert veto["level"] == "veto" and veto["evidence"][0]["url"] == body["url"]

        handle = f"{API}/incidents/{incident['id']}/handle"
        fix = {"handling": "已清除暗链并修改管理密码"}
        assert (await c.post(handle, json=fix, headers=people["jyj_auditor"])).status_code == 403
        done = await c.post(handle, json=fix, headers=people["jyj_admin"])
        assert done.status_code == 200, done.text
        assert (
            done.json()["handling"] == fix["handling"]
            and done.json()["handled_by"] == incident["recorded_by"]
        )
        again = await c.post(handle, json=fix, headers=people["ops"])
        assert again.status_code == 409, again.text
        missing = await c.post(f"{API}/incidents/999999/handle", json=fix, headers=people["ops"])
        assert missing.status_code == 404, missing.text
        await evaluate_all(oversight.db, feed_tables)
        card = (await c.get(f"{API}/scorecard", headers=people["jyj_auditor"])).json()
        assert next(i for i in card["indicators"] if i["indicator"] == INDICATOR)["level"] == "ok"
        listed = (
            await c.get(f"{API}/incidents", params={"open_only": True}, headers=people["jyj_auditor"])
        ).json()
        assert listed["total"] == 0
