"""A letter's whole life through the gateway: a citizen, a handler, a transfer, a rating, the
real machine review of the resources service, and a public page with no personal data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.tenancy import SiteEntry
from tests.interaction.conftest import MAILBOX
from tests.support.platform import Platform
from tests.support.tokens import TestIssuer

BASE = "/sites/jtj/api/interaction/v1"
ID_1 = "11010519491231002X"
ID_2 = "210603198807150016"
NOT_AN_ID = "210603198807150014"  # wrong check digit: a serial, kept
PHONES = ["13812345678", "139-1234-5678", "+86 15012345678", "024-23456789", "0415-3123456"]
ADDRESS = "振兴区锦山大街123号5单元602室"
PERSONAL = [ID_1, ID_2, *PHONES, ADDRESS, "123号", "王小明", "wxm@example.com", "辽F12345"]


@pytest.fixture
async def platform(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Platform]:
    async with Platform.start(tmp_path / "var") as p:
        p.gateway.sites.replace([*p.gateway.sites.by_code.values(), SiteEntry(code="jtj", name="交通局")])
        # People's tokens come from the test issuer; services still call each other with
        # identity's real internal tokens (resources keeps identity's verifier).
        p.gateway.guard.verifier = issuer.verifier()
        ctx = p.gateway.local_apps["interaction"].state.ctx
        ctx.verifier = issuer.verifier(also=ctx.verifier)
        yield p


async def test_a_letters_whole_life_through_the_gateway(platform: Platform, issuer: TestIssuer) -> None:
    client = platform.client
    citizen = issuer.headers("c1", [("citizen", None)], name="王小明")
    handler = issuer.headers("h1", [("editor", "jtj")], name="承办人")
    site_admin = issuer.headers("sa", [("site_admin", "jtj")])
    outsider = issuer.headers("h9", [("editor", "wjw")])

    assert (await client.put(f"{BASE}/mailbox", json=MAILBOX, headers=site_admin)).status_code == 200

    body = (
        f"我是王小明，身份证号{ID_1}，我父亲身份证号{ID_2}。联系电话{PHONES[0]}，备用{PHONES[1]}，"
        f"也可打{PHONES[2]}；单位座机{PHONES[3]}，家里{PHONES[4]}。家住{ADDRESS}。"
        f"邮箱 wxm@example.com，车牌辽F12345。反映小区门口公交站牌被撤一事，编号{NOT_AN_ID}。"
    )
    letter = {
        "kind": "complaint",
        "recipient": "yzc",
        "title": f"公交站牌被撤（电话{PHONES[0]}）",
        "body": body,
        "attachments": [
            {"filename": "情况说明.txt", "text": f"身份证{ID_1}，手机{PHONES[1]}，住址：{ADDRESS}"}
        ],
        "marked_names": ["王小明"],
        "publish_consent": True,
    }
    resp = await client.post(f"{BASE}/letters", json=letter, headers=citizen)
    assert resp.status_code == 201, resp.text
    receipt = resp.json()
    assert receipt["status"] == "received" and receipt["query_code"] is None
    assert receipt["received_at"].endswith("+08:00")
    lid = receipt["id"]

    assert (await client.get(f"{BASE}/letters/{lid}", headers=outsider)).status_code == 404
    inbox = (await client.get(f"{BASE}/inbox", headers=handler)).json()
    assert [i["id"] for i in inbox["items"]] == [lid]

    steps = [
        ("accept", {"complexity": "ordinary"}),
        ("assign", {"org": "yzc", "note": "运政处办理"}),
        ("assign", {"org": "gls", "note": "站牌属公路处职责，转办"}),
        ("reply", {"text": f"经核查，站牌已恢复。如有疑问请致电{PHONES[0]}联系王小明本人核实。"}),
        ("publish", {}),
    ]
    for step, payload in steps:
        resp = await client.post(f"{BASE}/letters/{lid}/{step}", json=payload, headers=handler)
        assert resp.status_code == 200, (step, resp.text)
    view = resp.json()
    assert view["status"] == "published" and view["handling_org"] == "gls"
    transfers = [e for e in view["events"] if e["action"] == "transferred"]
    assert [(t["detail"]["from_org"], t["detail"]["to_org"]) for t in transfers] == [("yzc", "gls")]
    assert ID_1 in view["body"]  # the handler reads the letter as written
    assert {"privacy.id-number", "privacy.mobile"} <= set(view["review_rules"])  # resources' review ran

    rated = await client.post(f"{BASE}/letters/{lid}/rating", json={"level": "非常满意"}, headers=citizen)
    assert rated.status_code == 200, rated.text
    assert [e["actor"] for e in rated.json()["events"] if e["action"] == "rated"] == ["writer"]

    public = await client.get(f"{BASE}/public/letters/{lid}")
    assert public.status_code == 200, public.text
    page = await client.get(f"{BASE}/public/letters")
    assert page.json()["total"] == 1
    for text in (public.text, page.text, json.dumps(public.json(), ensure_ascii=False)):
        leaked = [p for p in PERSONAL if p in text]
        assert leaked == [], leaked
    item = public.json()
    assert NOT_AN_ID in item["body"]
    assert item["rating"] == "非常满意" and "站牌已恢复" in item["reply"]
    fields = {r["field"] for r in item["redactions"]}
    assert {"title", "body", "reply", "attachments.0.text"} <= fields
    kinds = {r["kind"] for r in item["redactions"]}
    assert {"id_number", "mobile", "landline", "address", "name", "email", "plate"} <= kinds
    assert (
        sum(1 for r in item["redactions"] if r["field"] == "body" and r["kind"] in ("mobile", "landline"))
        == 5
    )

    searched = await client.get(f"{BASE}/public/letters", params={"q": "站牌"})
    assert searched.json()["total"] == 1
    assert (await client.get(f"{BASE}/public/letters", params={"q": ID_1})).json()["total"] == 0

    spam = {**letter, "title": "优惠", "body": "澳门新葡京 注册就送彩金 www.xpj7777.com", "attachments": []}
    screened = await client.post(f"{BASE}/letters", json=spam, headers=citizen)
    assert screened.status_code == 201 and screened.json()["status"] == "screened_out"
    assert (await client.get(f"{BASE}/letters/{screened.json()['id']}", headers=handler)).status_code == 404

    internal = {"Authorization": issuer.headers("root", [("platform_admin", None)])["Authorization"]}
    changes = await client.get("/api/interaction/v1/changes", headers=internal)
    assert changes.status_code == 200, changes.text
    topics = [e["topic"] for e in changes.json()["items"]]
    assert topics == [
        "letter.received",
        "letter.accepted",
        "letter.replied",
        "letter.published",
        "letter.rated",
        "rating.received",
    ]
    assert not any(p in changes.text for p in PERSONAL)
