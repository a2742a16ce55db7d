"""The dashboard over HTTP: OIDC sign-in through identity's page, who sees what, CSRF, headers."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from services.kernel import clock
from services.oversight.models import feed_tables
from services.oversight.workers import evaluate_all
from tests.identity.helpers import FAST_ARGON2
from tests.oversight.dashboard_flow import DASHBOARD, sign_in
from tests.oversight.seed import DYNAMIC, SITE, eventually, seed_site
from tests.support.platform import Platform

ADMIN_PASSWORD = "Dashboard-Admin-2026"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JIYUE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    yield
    clock.reset()


async def test_sign_in_scorecard_and_who_is_refused(tmp_path: Path) -> None:
    async with Platform.start(tmp_path, gateway_rate_limits=False) as platform:
        c = platform.client
        seeded = await seed_site(c, platform.gateway.directory)
        for q in ("工作情况", "zzqqxx", "yyppww"):  # distinct: the gateway caches a repeated search
            found = await c.get(f"/sites/{SITE}/api/search/v1/search", params={"q": q})
            assert found.status_code == 200, found.text
        terms = f"/api/search/v1/sites/{SITE}/query-statistics"
        window = {"from": str(clock.today()), "to": str(clock.today())}
        asked = await eventually(
            lambda: c.get(terms, params=window, headers=seeded.headers["auditor"]),
            lambda r: r.status_code == 200 and r.json()["searches"] == 3,
        )
        zero_results = asked.json()["zero_results"]
        assert {"query": "zzqqxx", "count": 1} in zero_results and {
            "query": "yyppww",
            "count": 1,
        } in zero_results
        assert {t["query"] for t in asked.json()["top"]} == {"工作情况", "zzqqxx", "yyppww"}
        for who in ("editor", "site_admin"):  # the editor of the site, another site's administrator
            refused = await c.get(terms, params=window, headers=seeded.headers[who])
            assert refused.status_code == 404
        ctx = platform.gateway.local_apps["oversight"].state.ctx
        clock.shift(timedelta(days=15))
        # jyj: the homepage and six 工作动态 idle 15 days; wsj has no column at all (homepage)
        assert await evaluate_all(ctx.db, feed_tables) == 3

        anonymous = await c.get(f"{DASHBOARD}/sites/{SITE}")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith(f"{DASHBOARD}/signin?next=")

        home = await sign_in(c, "admin", ADMIN_PASSWORD)
        assert home.status_code == 200, home.text
        assert home.headers["content-type"].startswith("text/html")
        csp = home.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert home.headers["cache-control"] == "no-store"
        session = c.cookies.get("jiyue_dashboard", path=DASHBOARD)
        assert session
        assert '<html lang="zh-CN">' in home.text and "示范市教育局" in home.text
        # nothing on the page is fetched from another host
        assert not re.search(r'(src|href)="(https?:)?//', home.text), home.text

        card = await c.get(f"{DASHBOARD}/sites/{SITE}")
        assert card.status_code == 200
        assert "不合格" in card.text
        for name in DYNAMIC:
            assert name in card.text  # the evidence names each stale column ...
        assert f"/sites/{SITE}/api/content/v1/columns/" in card.text  # ... with its address
        assert card.text.count("单项否决") >= 2
        stats = await c.get(f"{DASHBOARD}/sites/{SITE}/statistics")
        assert stats.status_code == 200 and "<svg" in stats.text and 'role="img"' in stats.text
        assert "共检索 3 次" in stats.text
        zero = stats.text.split("无结果的检索词（按检索次数）", 1)[1]
        assert '<th scope="row">zzqqxx</th><td class="num">1</td>' in zero
        warnings = await c.get(f"{DASHBOARD}/warnings")
        assert warnings.status_code == 200
        assert warnings.text.count("<tr>") == 1 + 3  # a head row and three vetoes

        year = clock.today().year
        report = await c.get(f"{DASHBOARD}/sites/{SITE}/annual-reports/{year}")
        assert report.status_code == 200 and "年度工作报表" in report.text and "<svg" in report.text
        api = await c.get(
            f"/api/oversight/v1/sites/{SITE}/annual-reports/{year}", headers=seeded.headers["auditor"]
        )
        assert api.status_code == 200, api.text
        downloaded = await c.get(f"{DASHBOARD}/sites/{SITE}/annual-reports/{year}/json")
        assert downloaded.status_code == 200
        assert downloaded.json()["sections"] == api.json()["sections"]  # the same figures as the API's
        for row in (r for sec in api.json()["sections"] for r in sec["rows"] if isinstance(r["value"], int)):
            assert f'<th scope="row">{row["label"]}</th><td>{row["value"]}' in report.text, row
        xlsx = await c.get(f"{DASHBOARD}/sites/{SITE}/annual-reports/{year}/xlsx")
        assert xlsx.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None and sheet.max_row > 5

        forged = await c.post(f"{DASHBOARD}/signout", data={"csrf_token": "x" * 64})
        assert forged.status_code == 403
        form_token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', card.text)
        assert form_token is not None
        out = await c.post(f"{DASHBOARD}/signout", data={"csrf_token": form_token.group(1)})
        assert out.status_code == 303
        assert (await c.get(DASHBOARD)).status_code == 303  # signed out: back to sign-in
        c.cookies.clear()

        citizen = await sign_in(c, "citizen01", seeded.passwords["citizen01"])
        assert citizen.status_code == 403 and "无权访问" in citizen.text
        c.cookies.clear()

        other = await sign_in(c, "wsj_admin", seeded.passwords["wsj_admin"])
        assert other.status_code == 200 and "示范市教育局" not in other.text
        hidden = await c.get(f"{DASHBOARD}/sites/{SITE}")
        ghost = await c.get(f"{DASHBOARD}/sites/nosuchsite")
        assert hidden.status_code == ghost.status_code == 404
        c.cookies.clear()

        auditor = await sign_in(
            c, "jyj_auditor", seeded.passwords["jyj_auditor"], f"{DASHBOARD}/sites/{SITE}"
        )
        assert auditor.status_code == 200 and "工作动态1" in auditor.text


async def test_a_forged_session_cookie_or_login_state_is_refused(tmp_path: Path) -> None:
    async with Platform.start(tmp_path, gateway_rate_limits=False) as platform:
        c = platform.client
        c.cookies.set("jiyue_dashboard", "eyJ0IjoiZm9yZ2VkIn0.forged.sig", path=DASHBOARD)
        assert (await c.get(DASHBOARD)).status_code == 303
        started = await c.get(f"{DASHBOARD}/signin", params={"next": "https://evil.example/x"})
        assert started.status_code == 303
        state = re.search(r"state=([^&]+)", started.headers["location"])
        assert state is not None
        # a callback whose state is not the one this browser started with
        wrong = await c.get(f"{DASHBOARD}/callback", params={"code": "abc", "state": "other"})
        assert wrong.status_code == 401 and "state" in wrong.text
        home = await sign_in(c, "admin", ADMIN_PASSWORD, f"{DASHBOARD}/signin?next=https://evil.example/x")
        assert home.status_code == 200  # the foreign `next` became the dashboard's home
