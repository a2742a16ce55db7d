"""意见征集 and 调查 through the gateway, with the real machine review and resource library:
a consultation's whole life, and a questionnaire whose results nobody sees before the close."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gateway.tenancy import SiteEntry
from services.kernel import clock
from services.kernel.edge import TENANT_HEADER
from tests.support.platform import Platform
from tests.support.tokens import TestIssuer

BASE = "/sites/jtj/api/interaction/v1"
PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
SPAM = "澳门新葡京 注册就送彩金 www.xpj7777.com"


@pytest.fixture
async def platform(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Platform]:
    async with Platform.start(tmp_path / "var") as p:
        p.gateway.sites.replace([*p.gateway.sites.by_code.values(), SiteEntry(code="jtj", name="交通局")])
        p.gateway.guard.verifier = issuer.verifier()
        ctx = p.gateway.local_apps["interaction"].state.ctx
        ctx.verifier = issuer.verifier(also=ctx.verifier)
        yield p
    clock.reset()


def _window(minutes: int = 60) -> dict[str, str]:
    now = clock.now()
    return {
        "starts_at": clock.to_wire(now - timedelta(minutes=1)),
        "ends_at": clock.to_wire(now + timedelta(minutes=minutes)),
    }


async def _stored_policy(platform: Platform) -> tuple[int, int]:
    """The final policy, stored in the library by jtj (internal call: people's tokens here are the test issuer's)."""
    resources = platform.gateway.directory.client("resources")
    body = {
        "metadata": {
            "title": "示范市出租汽车管理办法",
            "issuer_org": {"code": "jtj", "name": "示范市交通运输局"},
            "genre": "zhengce",
            "keywords": ["出租汽车"],
            "doc_no": "示交发〔2026〕1号",
            "written_at": "2026-11-30",
        },
        "body_html": "<p>第一条 为规范出租汽车经营服务，制定本办法。</p>",
        "scope": "public",
    }
    made = await resources.post("/api/resources/v1/resources", json=body, headers={TENANT_HEADER: "jtj"})
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    stored = await resources.post(f"/api/resources/v1/resources/{rid}/store", headers={TENANT_HEADER: "jtj"})
    assert stored.status_code == 200, stored.text
    return rid, stored.json()["version"]


async def test_a_consultations_whole_life_through_the_gateway(platform: Platform, issuer: TestIssuer) -> None:
    client = platform.client
    editor = issuer.headers("ed", [("editor", "jtj")], name="编辑")
    reviewer = issuer.headers("rv", [("reviewer", "jtj")], name="审核")
    citizens = [
        issuer.headers(f"c{i}", [("citizen", None)], name=n) for i, n in enumerate(["王小明", "李四", "张三"])
    ]
    draft = {
        "title": "《示范市出租汽车管理办法（征求意见稿）》公开征求意见",
        "summary": "欢迎社会各界提出意见建议。",
        "paragraphs": [
            {"anchor": "art-1", "text": "第一条 为规范出租汽车经营服务，制定本办法。"},
            {"anchor": "art-2", "text": "第二条 巡游车应当按规定安装计价器。"},
        ],
        "attachments": [{"title": "起草说明", "text": "起草背景与主要内容。"}],
        **_window(),
    }
    made = await client.post(f"{BASE}/consultations", json=draft, headers=editor)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert (await client.get(f"{BASE}/public/consultations/{cid}")).status_code == 404  # a draft
    opened = await client.post(f"{BASE}/consultations/{cid}/open", headers=editor)
    assert opened.status_code == 200 and opened.json()["accepting"], opened.text

    texts = [
        f"建议第二条增加投诉电话，我的电话{PHONE}，身份证{ID_NUMBER}，我是王小明。",
        SPAM,
        "建议明确计价器的检定周期。",
    ]
    anchors = ["art-2", "art-1", "art-2"]
    ids = []
    for who, text, anchor in zip(citizens, texts, anchors, strict=True):
        resp = await client.post(
            f"{BASE}/consultations/{cid}/comments", json={"anchor": anchor, "body": text}, headers=who
        )
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    mine = (await client.get(f"{BASE}/consultations/{cid}/comments/mine", headers=citizens[1])).json()
    assert [c["status"] for c in mine["items"]] == ["blocked"]  # the author is told
    assert mine["items"][0]["review_rules"]

    queue = (await client.get(f"{BASE}/consultations/{cid}/comments", headers=reviewer)).json()
    assert [c["id"] for c in queue["items"]] == [ids[0], ids[2]]  # the blocked one reaches nobody
    assert (await client.get(f"{BASE}/public/consultations/{cid}/comments")).json()["items"] == []
    blocked = await client.post(
        f"{BASE}/comments/{ids[1]}/moderation", json={"action": "approve"}, headers=reviewer
    )
    assert blocked.status_code == 404
    for comment_id in (ids[0], ids[2]):
        resp = await client.post(
            f"{BASE}/comments/{comment_id}/moderation", json={"action": "approve"}, headers=reviewer
        )
        assert resp.status_code == 200 and resp.json()["status"] == "approved", resp.text

    public = await client.get(f"{BASE}/public/consultations/{cid}/comments")
    assert [c["id"] for c in public.json()["items"]] == [ids[0], ids[2]]
    for leak in (PHONE, ID_NUMBER, "王小明", "c0", SPAM):
        assert leak not in public.text
    assert {r["kind"] for r in public.json()["items"][0]["redactions"]} >= {"mobile", "id_number", "name"}
    view = (await client.get(f"{BASE}/public/consultations/{cid}")).json()
    assert view["published_comments"] == 2
    assert [p["comments"] for p in view["paragraphs"]] == [0, 2]
    staff = (await client.get(f"{BASE}/consultations/{cid}", headers=editor)).json()
    assert (staff["published_comments"], staff["pending_comments"], staff["blocked_comments"]) == (2, 0, 1)

    late = await client.post(
        f"{BASE}/consultations/{cid}/feedback",
        json={"summary": "x", "items": [], "final_resource_id": 1, "final_resource_version": 1},
        headers=editor,
    )
    assert late.status_code == 409  # still open
    clock.shift(timedelta(hours=2))
    closed = await client.get(f"{BASE}/public/consultations/{cid}")
    assert closed.json()["status"] == "closed" and not closed.json()["accepting"]
    refused = await client.post(
        f"{BASE}/consultations/{cid}/comments",
        json={"anchor": "art-1", "body": "迟到的意见"},
        headers=citizens[2],
    )
    assert refused.status_code == 409

    rid, version = await _stored_policy(platform)
    report: dict[str, Any] = {
        "summary": "共收到有效意见 2 条，采纳 1 条。",
        "items": [
            {"comment_ids": [ids[0]], "decision": "adopted", "reason": ""},
            {
                "comment_ids": [ids[2]],
                "decision": "not_adopted",
                "reason": "检定周期由国家计量规定统一确定。",
            },
        ],
        "final_resource_id": rid,
        "final_resource_version": version,
    }
    ghost = await client.post(
        f"{BASE}/consultations/{cid}/feedback",
        json={**report, "final_resource_id": rid + 1000},
        headers=editor,
    )
    assert ghost.status_code == 422 and ghost.json()["errors"][0]["field"] == "final_resource_id", ghost.text
    incomplete = await client.post(
        f"{BASE}/consultations/{cid}/feedback", json={**report, "items": report["items"][:1]}, headers=editor
    )
    assert incomplete.status_code == 422, incomplete.text
    done = await client.post(f"{BASE}/consultations/{cid}/feedback", json=report, headers=editor)
    assert done.status_code == 200, done.text
    feedback = (await client.get(f"{BASE}/public/consultations/{cid}")).json()["feedback"]
    assert feedback["final_policy"]["resource_id"] == rid
    assert feedback["final_policy"]["title"] == "示范市出租汽车管理办法"
    assert feedback["counts"] == {"adopted": 1, "partly_adopted": 0, "not_adopted": 1}
    listed = (await client.get(f"{BASE}/public/consultations", params={"q": "出租汽车"})).json()
    assert [c["id"] for c in listed["items"]] == [cid] and listed["items"][0][
        "status"
    ] == "feedback_published"
    assert (await client.get(f"{BASE}/public/consultations", params={"q": "公交"})).json()["items"] == []

    internal = issuer.headers("root", [("platform_admin", None)])
    changes = await client.get("/api/interaction/v1/changes", headers=internal)
    topics = [e["topic"] for e in changes.json()["items"]]
    assert topics == [
        "consultation.created",
        "consultation.opened",
        "comment.received",
        "comment.blocked",
        "comment.received",
        "comment.approved",
        "comment.approved",
        "consultation.closed",
        "consultation.feedback_published",
    ]
    # The draft's own (public) text rides along for site search; a comment's never does.
    for leak in (PHONE, "王小明", "检定周期"):
        assert leak not in changes.text
    assert "巡游车应当按规定安装计价器" in changes.text


SURVEY = {
    "title": "出租汽车服务满意度调查",
    "questions": [
        {"id": "q1", "kind": "single", "text": "您多久乘坐一次出租车？", "options": ["每天", "每周", "很少"]},
        {"id": "q2", "kind": "multiple", "text": "您最关心哪些问题？", "options": ["拒载", "绕路", "卫生"]},
        {"id": "q3", "kind": "scale", "text": "总体满意度", "scale_max": 5},
        {"id": "q4", "kind": "text", "text": "其他建议", "required": False},
    ],
}


async def test_a_questionnaire_hides_results_until_the_close_and_counts_each_person_once(
    platform: Platform, issuer: TestIssuer
) -> None:
    client = platform.client
    editor = issuer.headers("ed", [("editor", "jtj")])
    roles = {
        "anonymous": {},
        "citizen": issuer.headers("c1", [("citizen", None)], name="王小明"),
        "editor": editor,
        "reviewer": issuer.headers("rv", [("reviewer", "jtj")]),
        "site_admin": issuer.headers("sa", [("site_admin", "jtj")]),
        "auditor": issuer.headers("au", [("auditor", "jtj")]),
        "other_site_editor": issuer.headers("ed2", [("editor", "wjw")]),
        "platform_admin": issuer.headers("root", [("platform_admin", None)]),
    }
    made = await client.post(f"{BASE}/surveys", json={**SURVEY, **_window()}, headers=editor)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    assert (await client.post(f"{BASE}/surveys/{sid}/open", headers=editor)).status_code == 200

    first = {"answers": {"q1": 0, "q2": [0, 1], "q3": 2, "q4": f"司机态度差，请回电{PHONE}"}}
    changed = {"answers": {"q1": 2, "q2": [2], "q3": 5, "q4": f"请联系{PHONE}，身份证{ID_NUMBER}"}}
    other = {"answers": {"q1": 2, "q2": [0], "q3": 4}}
    citizen2 = issuer.headers("c2", [("citizen", None)], name="李四")
    for who, body in ((roles["citizen"], first), (citizen2, other), (roles["citizen"], changed)):
        resp = await client.put(f"{BASE}/surveys/{sid}/answer", json=body, headers=who)
        assert resp.status_code == 200, resp.text
    assert resp.json()["revisions"] == 2 and resp.json()["answers"]["q1"] == 2
    bad = await client.put(
        f"{BASE}/surveys/{sid}/answer", json={"answers": {"q1": 7, "q2": [], "q3": 1}}, headers=citizen2
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "answers.q1"

    for name, headers in roles.items():
        for path in ("public/surveys/{sid}/results", "public/surveys/{sid}/chart?question=q1"):
            resp = await client.get(f"{BASE}/{path.format(sid=sid)}", headers=headers)
            assert resp.status_code == 403, (name, path, resp.status_code)
            assert "count" not in resp.text and "total" not in resp.text
        other_tenant = await client.get(
            f"/sites/wjw/api/interaction/v1/public/surveys/{sid}/results", headers=headers
        )
        assert other_tenant.status_code == 404, name
        for path in ("answers", "export"):
            resp = await client.get(f"{BASE}/surveys/{sid}/{path}", headers=headers)
            assert resp.status_code in (401, 403, 404), (name, path, resp.status_code)

    clock.shift(timedelta(hours=2))
    late = await client.put(
        f"{BASE}/surveys/{sid}/answer", json=other, headers=issuer.headers("c3", [("citizen", None)])
    )
    assert late.status_code == 409
    results = await client.get(f"{BASE}/public/surveys/{sid}/results")
    assert results.status_code == 200, results.text
    out = results.json()
    assert out["total_answers"] == 2
    q = {r["id"]: r for r in out["questions"]}
    assert [o["count"] for o in q["q1"]["options"]] == [0, 0, 2]  # the first answer was replaced
    assert [o["count"] for o in q["q2"]["options"]] == [1, 0, 1]
    assert q["q3"]["mean"] == 4.5 and q["q4"]["answered"] == 1
    assert q["q1"]["options"][2]["percent"] == 100.0
    for r in out["questions"]:
        if r["kind"] == "single":
            assert sum(o["count"] for o in r["options"]) == r["answered"] == out["total_answers"]
    svg = await client.get(f"{BASE}/public/surveys/{sid}/chart", params={"question": "q1"})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<rect" in svg.text and "很少" in svg.text

    page = (await client.get(f"{BASE}/surveys/{sid}/answers", headers=editor)).json()
    assert len(page["items"]) == out["total_answers"]
    csv_resp = await client.get(f"{BASE}/surveys/{sid}/export", params={"format": "csv"}, headers=editor)
    assert csv_resp.status_code == 200, csv_resp.text
    rows = list(csv.reader(io.StringIO(csv_resp.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + out["total_answers"]
    xlsx = await client.get(f"{BASE}/surveys/{sid}/export", params={"format": "xlsx"}, headers=editor)
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    cells = [[str(c or "") for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == rows
    for text in (csv_resp.content.decode("utf-8-sig"), json.dumps(page, ensure_ascii=False)):
        for leak in (PHONE, ID_NUMBER, "王小明", "李四", "c1", "c2"):
            assert leak not in text, leak
    assert "很少" in rows[1] and "卫生" in rows[1]
