"""Public delivery: published only, ETag/304, cache invalidated by writes, meta, article 26."""

from __future__ import annotations

from services.content.service.common import ContentState
from tests.content.conftest import Content


async def test_etag_304_and_cache_invalidated_on_withdraw(content: Content) -> None:
    await content.site("jtj", domains=["jtj.sfs.gov.cn"])
    col = await content.column("jtj", "政务动态", description="交通动态", keywords=["交通", "动态"])
    pid = await content.publish_new(
        "jtj", col, "全市交通工作会议召开", meta={"source": "示范市交通运输局办公室"}
    )
    first = await content.deliver("jtj", f"/items/{pid}")
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"')
    assert first.headers["cache-control"] == "public, max-age=60"
    meta = first.json()["meta"]
    assert meta == {
        "SiteName": "jtj网站",
        "SiteDomain": "jtj.sfs.gov.cn",
        "SiteIDCode": "bm99010001",
        "ColumnName": "政务动态",
        "ColumnDescription": "交通动态",
        "ColumnKeywords": "交通,动态",
        "ColumnType": "list",
        "ArticleTitle": "全市交通工作会议召开",
        "PubDate": meta["PubDate"],
        "ContentSource": "示范市交通运输局办公室",
    }
    assert len(meta["PubDate"]) == 16
    cache = content.ctx.state_of(ContentState).cache
    hits = cache.hits
    again = await content.deliver("jtj", f"/items/{pid}")
    assert again.content == first.content and again.headers["etag"] == etag
    assert cache.hits == hits + 1  # served by the middleware from memory
    not_modified = await content.deliver("jtj", f"/items/{pid}", **{"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    other = await content.deliver("jtj", f"/items/{pid}", **{"If-None-Match": '"nope"'})
    assert other.status_code == 200

    assert (await content.act(pid, "withdraw", content.editor("jtj"), opinion="内容有误")).status_code == 200
    gone = await content.deliver("jtj", f"/items/{pid}")
    assert gone.status_code == 404
    assert (await content.deliver("jtj", f"/columns/{col}/items")).json()["total"] == 0


async def test_column_listing_pages_and_hides_unpublished(content: Content) -> None:
    await content.site("jtj")
    col = await content.column("jtj", "政务动态")
    ids = [await content.publish_new("jtj", col, f"动态{i}") for i in range(3)]
    await content.place("jtj", col, "草稿不可见")
    page1 = (await content.deliver("jtj", f"/columns/{col}/items?page=1&size=2")).json()
    page2 = (await content.deliver("jtj", f"/columns/{col}/items?page=2&size=2")).json()
    assert page1["total"] == 3 and len(page1["items"]) == 2 and len(page2["items"]) == 1
    assert {i["id"] for i in page1["items"] + page2["items"]} == set(ids)
    assert page1["meta"]["ColumnName"] == "政务动态" and "ArticleTitle" not in page1["meta"]
    columns = (await content.deliver("jtj", "/columns")).json()
    assert [c["name"] for c in columns["items"]] == ["政务动态"]
    site = (await content.deliver("jtj", "/site")).json()
    assert site["meta"]["SiteName"] == "jtj网站"
    assert (await content.client.get("/api/content/v1/site")).status_code == 404  # no tenant


async def test_moving_an_item_or_column_keeps_ids_and_urls(content: Content) -> None:
    await content.site("jtj")
    a = await content.column("jtj", "政务动态")
    b = await content.column("jtj", "部门动态")
    pid = await content.publish_new("jtj", a, "可移动的信息")
    moved = await content.client.patch(
        f"/api/content/v1/publications/{pid}", json={"column_id": b}, headers=content.editor("jtj")
    )
    assert moved.status_code == 200 and moved.json()["id"] == pid and moved.json()["status"] == "published"
    assert (await content.deliver("jtj", f"/items/{pid}")).json()["column_id"] == b
    assert (await content.deliver("jtj", f"/columns/{b}/items")).json()["total"] == 1
    nest = await content.client.patch(
        f"/api/content/v1/sites/jtj/columns/{b}", json={"parent_id": a}, headers=content.site_admin("jtj")
    )
    assert nest.status_code == 200 and nest.json()["id"] == b and nest.json()["parent_id"] == a
    loop = await content.client.patch(
        f"/api/content/v1/sites/jtj/columns/{a}", json={"parent_id": b}, headers=content.site_admin("jtj")
    )
    assert loop.status_code == 422
    assert (await content.deliver("jtj", f"/columns/{b}/items")).json()["total"] == 1


async def test_policy_and_interpretation_link_both_ways(content: Content) -> None:
    await content.site("sfs", kind="portal", require_interpretation=True)
    policies = await content.column("sfs", "政策文件")
    readings = await content.column("sfs", "政策解读")
    policy = await content.place(
        "sfs", policies, "示范市促进就业若干措施", meta={"genre": "政策文件", "doc_no": "示政发〔2026〕12号"}
    )
    pid = policy["id"]
    await content.act(pid, "submit", content.editor("sfs"))
    await content.approve(pid, content.reviewer("sfs", 1))
    await content.approve(pid, content.reviewer("sfs", 2))
    refused = await content.act(pid, "publish", content.editor("sfs"))
    assert refused.status_code == 409 and "解读" in refused.json()["detail"]

    relation = {"relations": [{"type": "interpretation-of", "resource_id": policy["resource_id"]}]}
    iid = await content.publish_new("sfs", readings, "《示范市促进就业若干措施》政策解读", meta=relation)
    assert (await content.act(pid, "publish", content.editor("sfs"))).status_code == 200
    shown = (await content.deliver("sfs", f"/items/{pid}")).json()
    assert [i["id"] for i in shown["interpretations"]] == [iid]
    reverse = (await content.deliver("sfs", f"/items/{iid}")).json()
    assert reverse["policy"]["id"] == pid
