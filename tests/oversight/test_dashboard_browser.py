"""Issue 18's dashboard in a real browser: Debian's headless Chromium driven by Playwright signs
in through identity's own page, opens the sites, a stale site's scorecard and its statistics,
saves screenshots and runs axe-core on each page (no serious or critical violation); a citizen
is refused. Every host but loopback is cut off, so nothing on the pages may come from the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gateway import migrate
from gateway.app import create_gateway
from gateway.protocol import Utf8TargetProtocol
from gateway.server import bind_socket
from gateway.settings import GatewaySettings
from services.kernel import clock
from services.oversight.models import feed_tables
from services.oversight.workers import evaluate_all
from tests.identity.helpers import FAST_ARGON2
from tests.oversight.dashboard_flow import DASHBOARD
from tests.oversight.seed import SITE, seed_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
ADMIN_PASSWORD = "Browser-Admin-2026"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SERIOUS = {"serious", "critical"}

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (dev group)")
axe_api = pytest.importorskip(
    "axe_playwright_python.async_playwright", reason="axe-playwright-python missing"
)


@contextlib.asynccontextmanager
async def served_platform(data_dir: Path) -> AsyncIterator[tuple[str, Any]]:
    """The whole platform on a loopback port whose address is its public URL (the OIDC issuer
    and the dashboard's registered callback), served in this event loop."""
    sock = bind_socket("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = GatewaySettings(data_dir=data_dir, public_url=base, gateway_rate_limits=False)
    await migrate.migrate(data_dir=data_dir, public_url=base)
    app = create_gateway(settings)
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, http=Utf8TargetProtocol
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started, "the platform did not start"
        yield base, app.gateway
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


async def _axe(page: Any, name: str, shots: Path) -> None:
    path = shots / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    results = await axe_api.Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in bad
    )


async def _sign_in(page: Any, username: str, password: str) -> None:
    await page.wait_for_selector("#username")
    assert "统一身份认证" in await page.title()
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.keyboard.press("Enter")  # the form works from the keyboard
    await page.wait_for_url(lambda url: "/api/identity/" not in url)
    await page.wait_for_load_state("load")


@pytest.mark.timeout(420)
async def test_the_dashboard_in_headless_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not HAVE_CHROMIUM:
        pytest.skip(
            "chromium is not installed (deploy/local/chromium.sh installs it; ./scripts/test runs it)"
        )
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("JIYUE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        async with served_platform(tmp_path / "data") as (base, gateway):
            async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                seeded = await seed_site(c, gateway.directory)
                for _ in range(3):  # a few page views for the statistics
                    assert (await c.get(f"/sites/{SITE}/api/content/v1/site")).status_code == 200
            ctx = gateway.local_apps["oversight"].state.ctx
            clock.shift(timedelta(days=15))
            assert await evaluate_all(ctx.db, feed_tables) >= 2

            async with playwright_api.async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                try:
                    await _admin_journey(browser, base, shots)
                    citizen = await browser.new_context(locale="zh-CN")
                    page = await citizen.new_page()
                    await page.goto(f"{base}{DASHBOARD}")
                    await _sign_in(page, "citizen01", seeded.passwords["citizen01"])
                    assert "无权访问" in await page.inner_text("main")
                    await _axe(page, "refused-citizen", shots)
                finally:
                    await browser.close()
    finally:
        clock.reset()


async def _admin_journey(browser: Any, base: str, shots: Path) -> None:
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    offsite: list[str] = []
    page.on("request", lambda r: offsite.append(r.url) if not r.url.startswith(base) else None)
    await page.goto(f"{base}{DASHBOARD}/sites/{SITE}")
    await _sign_in(page, "admin", ADMIN_PASSWORD)
    # back where the sign-in started: the stale site's scorecard
    assert page.url == f"{base}{DASHBOARD}/sites/{SITE}"
    main = await page.inner_text("main")
    assert "不合格" in main and "工作动态1" in main and "单项否决" in main
    await _axe(page, "scorecard", shots)
    await page.keyboard.press("Tab")  # the first stop is the skip link
    assert await page.evaluate("document.activeElement.textContent") == "跳到主要内容"

    await page.click("nav >> text=访问统计")
    await page.wait_for_load_state("load")
    assert await page.locator("svg[role=img]").count() == 2
    await _axe(page, "statistics", shots)

    year = clock.today().year
    await page.goto(f"{base}{DASHBOARD}/sites/{SITE}/annual-reports/{year}")
    assert f"{year} 年度工作报表" in await page.inner_text("h1")
    assert await page.locator("a[href$='/xlsx']").count() == 1
    await _axe(page, "annual-report", shots)

    await page.click("nav >> text=站点检查")
    await page.wait_for_load_state("load")
    assert "示范市教育局" in await page.inner_text("main")
    await _axe(page, "sites", shots)

    await page.click("nav >> text=预警")
    await page.wait_for_load_state("load")
    await _axe(page, "warnings", shots)
    assert offsite == [], offsite
    await context.close()
