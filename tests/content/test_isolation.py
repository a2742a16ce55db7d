"""Tenant isolation: one site's editor never reads or changes another site's objects."""

from __future__ import annotations

from tests.content.conftest import Content


async def test_editor_of_one_site_sees_nothing_of_another(content: Content) -> None:
    await content.site("jtj")
    await content.site("wjw", domains=["wjw.example.gov.cn"], id_code="bm99010011")
    col = await content.column("wjw", "通知公告")
    pid = (await content.place("wjw", col, "卫健委内部稿件"))["id"]
    await content.act(pid, "submit", content.editor("wjw"))
    intruder = content.as_("jtj_editor", ("editor", "jtj"), ("reviewer", "jtj"), ("site_admin", "jtj"))
    c = content.client
    for resp in (
        await c.get("/api/content/v1/sites/wjw", headers=intruder),
        await c.get("/api/content/v1/sites/wjw/columns", headers=intruder),
        await c.get(f"/api/content/v1/sites/wjw/columns/{col}", headers=intruder),
        await c.patch(f"/api/content/v1/sites/wjw/columns/{col}", json={"name": "改"}, headers=intruder),
        await c.post("/api/content/v1/sites/wjw/columns", json={"name": "新"}, headers=intruder),
        await c.get("/api/content/v1/sites/wjw/publications", headers=intruder),
        await c.get(f"/api/content/v1/publications/{pid}", headers=intruder),
        await c.patch(f"/api/content/v1/publications/{pid}", json={"important": True}, headers=intruder),
        await content.approve(pid, intruder),
        await content.act(pid, "withdraw", intruder),
        await c.post(
            "/api/content/v1/sites/wjw/publications",
            json={"column_id": col, "resource_id": 1, "resource_version": 1},
            headers=intruder,
        ),
    ):
        assert resp.status_code == 404, (resp.request.method, resp.request.url, resp.text)
        assert "卫健委内部稿件" not in resp.text
    # Its own column id used on its own site path cannot reach the other site's column either.
    own = await c.post(
        "/api/content/v1/sites/jtj/publications",
        json={"column_id": col, "resource_id": content.library.add("x"), "resource_version": 1},
        headers=intruder,
    )
    assert own.status_code == 404
    inbox = (await c.get("/api/content/v1/inbox", headers=intruder)).json()
    assert inbox["total"] == 0
    assert (await c.get("/api/content/v1/sites", headers=intruder)).json()["items"][0]["code"] == "jtj"
    # Delivery for one tenant never shows another tenant's item.
    assert (await content.deliver("jtj", f"/columns/{col}/items")).status_code == 404
    tasks = (
        await c.get("/api/content/v1/syndication/tasks", params={"site": "wjw"}, headers=intruder)
    ).json()
    assert tasks["total"] == 0
