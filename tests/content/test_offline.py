"""Taking a site offline (article 23): content moves to the portal, URLs redirect, notice stays."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.content.conftest import Content


async def test_offline_moves_content_keeps_urls_and_leaves_notice(content: Content) -> None:
    await content.site("sfs", kind="portal", name="示范市人民政府", domains=["www.sfs.gov.cn"])
    await content.column("sfs", "通知公告")
    await content.site(
        "ybj", parent="sfs", name="示范市医疗保障局", domains=["ybj.sfs.gov.cn"], id_code="bm99010012"
    )
    col = await content.column("ybj", "政务动态")
    ids = [await content.publish_new("ybj", col, f"医保动态{i}") for i in range(2)]
    draft = (await content.place("ybj", col, "未发布的草稿"))["id"]
    before = await content.deliver("ybj", f"/items/{ids[0]}")
    assert before.status_code == 200  # cached now; going offline must invalidate it

    resp = await content.client.post(
        "/api/content/v1/sites/ybj/status",
        json={"status": "offline", "reason": "机构改革"},
        headers=content.admin,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "offline" and body["redirect_to"] == "/sites/sfs"
    migration = body["migration"]
    assert sorted(migration["moved"]) == sorted(ids)
    expires = datetime.fromisoformat(migration["notice_expires_at"])
    assert expires - datetime.now(expires.tzinfo) >= timedelta(days=29, hours=23)

    for pid in ids:
        old = await content.deliver("ybj", f"/items/{pid}")
        assert old.status_code == 308
        assert old.headers["location"] == f"/sites/sfs/api/content/v1/items/{pid}"
        new = await content.deliver("sfs", f"/items/{pid}")
        assert new.status_code == 200 and new.json()["id"] == pid
    moved_col = migration["column_id"]
    listing = (await content.deliver("sfs", f"/columns/{moved_col}/items")).json()
    assert listing["column"]["name"] == "示范市医疗保障局（已下线）" and listing["total"] == 2
    notice = (await content.deliver("sfs", f"/items/{migration['notice_id']}")).json()
    assert notice["title"] == "关于示范市医疗保障局下线的公告" and notice["meta"]["ColumnName"] == "通知公告"
    assert (await content.deliver("ybj", f"/items/{draft}")).status_code == 404
    registry = (await content.client.get("/api/content/v1/site-registry", headers=content.admin)).json()
    ybj = next(e for e in registry["items"] if e["code"] == "ybj")
    assert ybj["status"] == "offline" and ybj["redirect_to"] == "/sites/sfs" and "迁移" in ybj["notice"]
    again = await content.client.post(
        "/api/content/v1/sites/ybj/status", json={"status": "online"}, headers=content.admin
    )
    assert again.status_code == 409
