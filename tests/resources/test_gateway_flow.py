"""The store flow end to end through the gateway: draft → attachment → 入库 → 索引号 and findings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.tenancy import SiteEntry
from tests.resources.conftest import policy_metadata
from tests.support.platform import Platform
from tests.support.tokens import TestIssuer

BASE = "/sites/jtj/api/resources/v1"
HIDDEN_GAMBLING_LINK = '<p>关于做好安全生产工作的通知</p><div style="display:none"><a href="http://www.xpj7777.com">澳门新葡京</a></div>'


@pytest.fixture
async def platform(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Platform]:
    async with Platform.start(tmp_path / "var") as p:
        p.gateway.sites.replace([*p.gateway.sites.by_code.values(), SiteEntry(code="jtj", name="交通局")])
        # Tokens for this test come from the test issuer rather than identity's user admin:
        # the gateway's guard and the resources service both trust it.
        p.gateway.guard.verifier = issuer.verifier()
        ctx = p.gateway.local_apps["resources"].state.ctx
        ctx.verifier = issuer.verifier(also=ctx.verifier)
        yield p


async def test_store_flow_through_the_gateway(platform: Platform, issuer: TestIssuer) -> None:
    client = platform.client
    editor = issuer.headers("ed1", [("editor", "jtj")], org="DDSZF")
    forged = {**editor, "X-Jiyue-Site": "wjw"}  # the gateway strips a client's copy

    resp = await client.post(
        f"{BASE}/resources",
        json={"metadata": policy_metadata(), "body_html": "<p>身份证号：11010519491231002X</p>"},
        headers=forged,
    )
    assert resp.status_code == 201, resp.text
    draft = resp.json()
    assert draft["owner_site"] == "jtj"
    rid = draft["id"]

    pdf = b"%PDF-1.4\n" + b"0" * 100 + b"\n%%EOF"
    up = await client.post(
        f"{BASE}/resources/{rid}/attachments", files={"file": ("附件一：实施细则.pdf", pdf)}, headers=editor
    )
    assert up.status_code == 201, up.text
    assert up.json()["media_type"] == "application/pdf" and up.json()["duplicate"] is False

    refused = await client.post(f"{BASE}/resources/{rid}/store", headers=editor)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [f["rule"] for f in refused.json()["extra"]["findings"]] == ["privacy.id-number"]

    await client.patch(f"{BASE}/resources/{rid}", json={"body_html": HIDDEN_GAMBLING_LINK}, headers=editor)
    refused = await client.post(f"{BASE}/resources/{rid}/store", headers=editor)
    assert refused.status_code == 422
    blocking = {f["rule"] for f in refused.json()["extra"]["findings"]}
    assert {"hidden.link", "spam.casino-brand"} <= blocking

    fixed = '<p>关于做好安全生产工作的通知</p><p>详见<a href="https://www.gov.cn/">中国政府网</a>。</p>'
    await client.patch(f"{BASE}/resources/{rid}", json={"body_html": fixed}, headers=editor)
    stored = await client.post(f"{BASE}/resources/{rid}/store", headers=editor)
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert body["index_no"] == "DDSZF/2019-00001"
    assert body["findings"] == []
    assert [a["filename"] for a in body["attachments"]] == ["附件一：实施细则.pdf"]

    # Stored is not published: only the owning site's staff may fetch the bytes, never cached.
    anonymous = await client.get(body["attachments"][0]["url"])
    assert anonymous.status_code == 404, anonymous.text
    download = await client.get(body["attachments"][0]["url"], headers=editor)
    assert download.status_code == 200 and download.content == pdf
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    assert download.headers["cache-control"] == "private, no-store"
