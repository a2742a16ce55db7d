"""Old addresses answer 301 through the gateway; bad lines are reported and never stop the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.importer.runner import Importer
from tests.identity.helpers import FAST_ARGON2
from tests.migration.helpers import DOMAIN, eventually, item, platform_with_site, write_bundle

API = "/api/content/v1"


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


async def test_bad_lines_are_reported_by_line_and_the_rest_imports(tmp_path: Path) -> None:
    lines = [
        item(1),
        "{not json",
        item(3, column="xxgk/nosuch"),
        item(4, attachments=[{"path": "files/missing.pdf", "name": "附件.pdf"}]),
        item(5, body_html="<p>请联系张三，身份证号 110101199003074514，电话 13800138000。</p>"),
        item(6, published_at="yesterday"),
        item(1, title="同一来源键第二次出现"),
        item(8, attachments=[{"path": "files/a.pdf", "name": "附件1.pdf"}]),
        item(9, genre="zhengce", column="xxgk/zcwj"),  # a 政策文件 without its 文号
        item(10, relations=[{"kind": "interprets", "source_key": "nowhere"}], column="xxgk/zcjd"),
        item(11),
    ]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    bundle = write_bundle(tmp_path / "bundle", lines, {"files/a.pdf": pdf})
    async with platform_with_site(tmp_path) as target:
        async with target.client() as client:
            outcome = await Importer(client, "jtj", batch=4, approval="抽查通过").run(bundle)
        reasons = {f["line"]: f["reason"] for f in outcome.failures}
        assert reasons == {
            2: "malformed",
            3: "unknown_column",
            4: "missing_attachment",
            5: "review_blocked",
            6: "invalid",
            7: "duplicate",
            9: "rejected",
            10: "unknown_relation",
        }, outcome.failures
        assert outcome.imported == 3
        blocked = next(f for f in outcome.failures if f["line"] == 5)
        assert "身份证" in blocked["message"] or "privacy" in blocked["message"]
        c = target.platform.client
        listed = (await c.get(f"{API}/sites/jtj/publications", headers=target.admin)).json()
        with_file = next(p for p in listed["items"] if p["title"] == "关于第8期道路养护施工的通告")
        assert [a["filename"] for a in with_file["attachments"]] == ["附件1.pdf"]
        report = (await c.get(f"{API}/imports/{outcome.job_id}/report", headers=target.admin)).json()
        assert [f["line"] for f in report["failures"]] == [2, 3, 4, 5, 6, 7, 9, 10]
        assert report["job"]["status"] == "finished" and report["job"]["imported"] == 3


async def test_a_second_run_imports_nothing_twice(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path / "bundle", [item(n) for n in range(1, 6)])
    async with platform_with_site(tmp_path) as target:
        async with target.client() as client:
            first = await Importer(client, "jtj", batch=2, approval="抽查通过").run(bundle)
            write_bundle(bundle, [item(n) for n in range(1, 8)])
            second = await Importer(client, "jtj", batch=2, approval="抽查通过").run(bundle)
        assert (first.imported, second.imported, second.skipped) == (5, 2, 5)
        listed = (await target.platform.client.get(f"{API}/sites/jtj/publications", headers=target.admin)).json()
        assert listed["total"] == 7


async def test_policy_and_interpretation_link_and_old_urls_answer_301(tmp_path: Path) -> None:
    policy = item(
        1,
        source_key="zcwj/1",
        column="xxgk/zcwj",
        genre="zhengce",
        doc_number="示交发〔2019〕3号",
        title="示范市交通运输局关于优化道路养护管理的通知",
        original_url="http://old.jtj.example.gov.cn/zcwj/201903/t2019_1.html",
        relations=[{"kind": "interpreted_by", "source_key": "zcjd/1"}],
    )
    reading = item(
        2,
        source_key="zcjd/1",
        column="xxgk/zcjd",
        title="《关于优化道路养护管理的通知》政策解读",
        original_url="/zcjd/201903/t2019_2.html?from=list",
    )
    # the interpretation comes first in the file: it waits for its policy
    bundle = write_bundle(tmp_path / "bundle", [reading, policy])
    async with platform_with_site(tmp_path) as target:
        async with target.client() as client:
            outcome = await Importer(client, "jtj", approval="抽查通过").run(bundle)
        assert (outcome.imported, outcome.failures) == (2, [])
        c = target.platform.client
        listed = (await c.get(f"{API}/sites/jtj/publications", headers=target.admin)).json()
        by_title = {p["title"]: p for p in listed["items"]}
        pol, jd = by_title[policy["title"]], by_title[reading["title"]]
        assert jd["metadata"]["genre"] == "jiedu"
        assert jd["metadata"]["relations"] == [{"type": "interpretation-of", "resource_id": pol["resource_id"]}]
        assert pol["metadata"]["doc_no"] == "示交发〔2019〕3号"

        on_host = await c.get("/zcwj/201903/t2019_1.html", headers={"Host": DOMAIN})
        assert on_host.status_code == 301
        assert on_host.headers["location"] == f"/api/content/v1/items/{pol['id']}"
        prefixed = await c.get("/sites/jtj/zcjd/201903/t2019_2.html?from=list")
        assert prefixed.status_code == 301
        assert prefixed.headers["location"] == f"/sites/jtj/api/content/v1/items/{jd['id']}"
        followed = await c.get(on_host.headers["location"], headers={"Host": DOMAIN})
        assert followed.status_code == 200 and followed.json()["title"] == policy["title"]
        assert (await c.get("/zcwj/nothing.html", headers={"Host": DOMAIN})).status_code == 404

        # article 20: the site closes, its content moves to the portal; the old path keeps working
        portal = {"code": "sfs", "name": "示范市人民政府", "kind": "portal", "domains": ["www.sfs.gov.cn"],
                  "id_code": "9901000001"}  # fmt: skip
        assert (await c.post(f"{API}/sites", json=portal, headers=target.admin)).status_code == 201
        assert (await c.post(f"{API}/sites/sfs/status", json={"status": "online"}, headers=target.admin)).status_code == 200
        closed = await c.post(f"{API}/sites/jtj/status", json={"status": "offline", "reason": "机构改革"}, headers=target.admin)
        assert closed.status_code == 200, closed.text

        async def on_portal() -> int:
            resp = await c.get("/zcwj/201903/t2019_1.html", headers={"Host": "www.sfs.gov.cn"})
            return resp.status_code

        assert await eventually(on_portal, lambda s: s == 301) == 301
        moved = await c.get("/zcwj/201903/t2019_1.html", headers={"Host": "www.sfs.gov.cn"})
        assert moved.headers["location"] == f"/api/content/v1/items/{pol['id']}"
        old_host = await eventually(
            lambda: c.get("/zcwj/201903/t2019_1.html", headers={"Host": DOMAIN}),
            lambda r: r.status_code == 301 and "sfs" in r.headers.get("location", ""),
        )
        assert old_host.headers["location"] == f"http://www.sfs.gov.cn/api/content/v1/items/{pol['id']}"
