"""Review before publication: the chain, refusals, records, delivery and the feed."""

from __future__ import annotations

from tests.content.conftest import Content


async def _changes(content: Content, topics: str) -> list[dict]:
    resp = await content.client.get(
        "/api/content/v1/changes", params={"topics": topics, "limit": 1000}, headers=content.admin
    )
    assert resp.status_code == 200
    return list(resp.json()["items"])


async def test_two_reviewers_then_live_in_delivery(content: Content) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "通知公告")
    placed = await content.place(
        "jtj", col, "关于道路施工的通告", meta={"doc_no": "示交发〔2026〕3号", "genre": "通知"}
    )
    pid = placed["id"]
    assert placed["status"] == "draft" and placed["title"] == "关于道路施工的通告"
    assert content.library.calls[-1][2] == "jtj"  # asked resources for this site's use

    assert (await content.deliver("jtj", f"/items/{pid}")).status_code == 404
    refused = await content.act(pid, "publish", content.editor("jtj"))
    assert refused.status_code == 409 and "审核" in refused.json()["detail"]

    assert (await content.act(pid, "submit", content.editor("jtj"))).status_code == 200
    assert (await content.act(pid, "publish", content.editor("jtj"))).status_code == 409
    first = await content.approve(pid, content.reviewer("jtj", 1))
    assert first.json()["status"] == "in_review" and first.json()["pending_role"] == "reviewer"
    twice = await content.approve(pid, content.reviewer("jtj", 1))
    assert twice.status_code == 403 and "一次" in twice.json()["detail"]
    second = await content.approve(pid, content.reviewer("jtj", 2))
    assert second.json()["status"] == "approved"
    live = await content.act(pid, "publish", content.editor("jtj"))
    assert live.status_code == 200 and live.json()["status"] == "published"

    item = await content.deliver("jtj", f"/items/{pid}")
    assert item.status_code == 200
    body = item.json()
    assert body["title"] == "关于道路施工的通告" and body["attachments"][0]["name"] == "附件.pdf"
    assert body["meta"]["ArticleTitle"] == "关于道路施工的通告"
    assert body["meta"]["ColumnName"] == "通知公告" and body["meta"]["SiteIDCode"] == "bm99010001"

    detail = await content.client.get(f"/api/content/v1/publications/{pid}", headers=content.editor("jtj"))
    steps = [(r["action"], r["actor"]) for r in detail.json()["reviews"]]
    assert steps == [
        ("submit", "jtj_editor"),
        ("approve", "jtj_reviewer1"),
        ("approve", "jtj_reviewer2"),
        ("publish", "jtj_editor"),
    ]
    assert detail.json()["reviews"][1]["confidentiality_check"] == {"passed": True, "note": "无涉密"}

    events = await _changes(content, "publication.published")
    ref = events[-1]["payload"]
    assert events[-1]["key"] == str(pid)
    # Events are references; the index document (with the body) is fetched by id.
    assert ref["publication_id"] == pid and ref["site"] == "jtj" and ref["status"] == "published"
    assert "body_text" not in ref
    docs = await content.client.get("/api/content/v1/index-documents", headers=content.admin)
    assert [d["publication_id"] for d in docs.json()["items"]] == [pid]
    by_id = await content.client.get(
        "/api/content/v1/index-documents", params={"ids": str(pid)}, headers=content.admin
    )
    doc = by_id.json()["items"][0]
    assert doc["doc_no"] == "示交发〔2026〕3号" and doc["site"] == "jtj" and doc["column_name"] == "通知公告"
    assert doc["url"] == f"/api/content/v1/items/{pid}" and doc["published_at"]


async def test_self_approval_is_forbidden(content: Content) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "政务动态", chain=["reviewer"])
    pid = (await content.place("jtj", col, "局务会议召开"))["id"]
    both = content.as_("zhang", ("editor", "jtj"), ("reviewer", "jtj"))
    assert (await content.act(pid, "submit", both)).status_code == 200
    own = await content.approve(pid, both)
    assert own.status_code == 403 and own.headers["content-type"] == "application/problem+json"
    assert "自己" in own.json()["detail"]
    editor_only = await content.approve(pid, content.editor("jtj", "li"))
    assert editor_only.status_code == 403


async def test_unstored_or_missing_versions_cannot_be_placed(content: Content) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "政务动态")
    rid = content.library.add("未入库的稿件")
    content.library.unstored.add((rid, 1))
    body = {"column_id": col, "resource_id": rid, "resource_version": 1}
    unstored = await content.client.post(
        "/api/content/v1/sites/jtj/publications", json=body, headers=content.editor("jtj")
    )
    assert unstored.status_code == 409 and "入库" in unstored.json()["detail"]
    missing = await content.client.post(
        "/api/content/v1/sites/jtj/publications",
        json={**body, "resource_version": 7},
        headers=content.editor("jtj"),
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "resource_version"


async def test_reject_needs_opinion_and_returns_to_draft(content: Content) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "政务动态")
    pid = (await content.place("jtj", col, "稿件"))["id"]
    await content.act(pid, "submit", content.editor("jtj"))
    assert (await content.act(pid, "reject", content.reviewer("jtj"))).status_code == 422
    no_check = await content.act(pid, "approve", content.reviewer("jtj"), opinion="同意")
    assert no_check.status_code == 422
    failed_check = await content.act(
        pid, "approve", content.reviewer("jtj"), confidentiality_check={"passed": False, "note": "含内部信息"}
    )
    assert failed_check.status_code == 409
    rejected = await content.act(pid, "reject", content.reviewer("jtj"), opinion="标题不规范")
    assert rejected.json()["status"] == "draft"
    assert (await _changes(content, "publication.rejected"))[-1]["key"] == str(pid)
    # A new round starts clean: the reviewer of the last round may approve again.
    await content.act(pid, "submit", content.editor("jtj"))
    assert (await content.approve(pid, content.reviewer("jtj"))).status_code == 200


async def test_archived_items_stay_readable_and_frozen(content: Content) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "政务动态")
    pid = await content.publish_new("jtj", col, "2019年工作总结")
    archived = await content.act(pid, "archive", content.editor("jtj"))
    assert archived.json()["status"] == "archived"
    item = (await content.deliver("jtj", f"/items/{pid}")).json()
    assert item["archived"] is True and item["label"] == "已归档" and item["archived_at"]
    listing = (await content.deliver("jtj", f"/columns/{col}/items")).json()
    assert listing["items"][0]["label"] == "已归档"
    edit = await content.client.patch(
        f"/api/content/v1/publications/{pid}", json={"important": True}, headers=content.editor("jtj")
    )
    assert edit.status_code == 409
    assert (await content.act(pid, "withdraw", content.editor("jtj"))).status_code == 409


async def test_inbox_spans_sites_and_follows_the_chain(content: Content) -> None:
    await content.site("sfs", kind="portal")
    await content.site("jtj", parent="sfs", id_code="bm99010002")
    a = await content.column("sfs", "通知公告", chain=["reviewer", "site_admin"])
    b = await content.column("jtj", "通知公告", chain=["reviewer"])
    pa = (await content.place("sfs", a, "门户稿件"))["id"]
    pb = (await content.place("jtj", b, "部门稿件"))["id"]
    await content.act(pa, "submit", content.editor("sfs"))
    await content.act(pb, "submit", content.editor("jtj"))
    wang = content.as_("wang", ("reviewer", "sfs"), ("reviewer", "jtj"))
    inbox = (await content.client.get("/api/content/v1/inbox", headers=wang)).json()
    assert {i["id"] for i in inbox["items"]} == {pa, pb}
    await content.approve(pa, wang)
    after = (await content.client.get("/api/content/v1/inbox", headers=wang)).json()
    assert {i["id"] for i in after["items"]} == {pb}
    admin_inbox = (
        await content.client.get("/api/content/v1/inbox", headers=content.site_admin("sfs"))
    ).json()
    assert [i["id"] for i in admin_inbox["items"]] == [pa]
    only_jtj = (await content.client.get("/api/content/v1/inbox", headers=content.reviewer("jtj"))).json()
    assert [i["id"] for i in only_jtj["items"]] == [pb]
