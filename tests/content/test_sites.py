"""Sites as tenants: validation, domains, lifecycle rules (articles 19-23), history and feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.content.conftest import Content


async def test_site_fields_are_validated_and_domains_normalised(content: Content) -> None:
    base = {"code": "jtj", "name": "示范市交通运输局", "kind": "department"}
    bad = await content.client.post(
        "/api/content/v1/sites", json={**base, "id_code": "12345"}, headers=content.admin
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "id_code"
    for good in ("9901000002", "bm12345678"):
        ok = await content.client.post(
            "/api/content/v1/sites",
            json={
                **base,
                "code": f"s{good[-3:]}",
                "id_code": good,
                "domains": ["JTJ.示范市.政务", f"x{good}.Gov.CN."],
            },
            headers=content.admin,
        )
        if good == "9901000002":
            assert ok.status_code == 201, ok.text
            assert ok.json()["domains"][0] == "jtj.示范市.政务".encode("idna").decode()
            assert ok.json()["domains"][1] == "x9901000002.gov.cn"
            assert ok.json()["status"] == "applying"
        else:
            assert ok.status_code == 409  # the first domain already belongs to the first site
    not_admin = await content.client.post(
        "/api/content/v1/sites", json={**base, "id_code": "bm12345678"}, headers=content.site_admin("jtj")
    )
    assert not_admin.status_code == 403


async def test_registry_lists_sites_with_cursor(content: Content) -> None:
    await content.site("sfs", kind="portal", domains=["www.sfs.gov.cn"])
    reg = await content.client.get("/api/content/v1/site-registry", headers=content.admin)
    body = reg.json()
    assert body["cursor"] > 0
    entry = body["items"][0]
    assert entry == {
        "code": "sfs",
        "name": "sfs网站",
        "status": "online",
        "domains": ["www.sfs.gov.cn"],
        "notice": None,
        "redirect_to": None,
        "resume_at": None,
    }
    denied = await content.client.get("/api/content/v1/site-registry", headers=content.editor("sfs"))
    assert denied.status_code == 403


async def test_suspension_at_most_once_a_year_and_thirty_days(content: Content) -> None:
    await content.site("jtj")
    path = "/api/content/v1/sites/jtj/status"
    too_long = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    long_resp = await content.client.post(
        path, json={"status": "suspended", "resume_at": too_long}, headers=content.admin
    )
    assert long_resp.status_code == 422 and "30" in long_resp.json()["detail"]
    soon = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    first = await content.client.post(
        path, json={"status": "suspended", "resume_at": soon, "reason": "系统升级"}, headers=content.admin
    )
    assert first.status_code == 200 and first.json()["status"] == "suspended" and first.json()["resume_at"]
    reg = (await content.client.get("/api/content/v1/site-registry", headers=content.admin)).json()
    assert reg["items"][0]["notice"] == "系统升级" and reg["items"][0]["resume_at"]
    back = await content.client.post(path, json={"status": "online"}, headers=content.admin)
    assert back.status_code == 200
    second = await content.client.post(
        path, json={"status": "suspended", "resume_at": soon}, headers=content.admin
    )
    assert second.status_code == 409 and "一次" in second.json()["detail"]
    history = (await content.client.get("/api/content/v1/sites/jtj/history", headers=content.admin)).json()
    assert [h["action"] for h in history["items"]] == [
        "created",
        "status:online",
        "status:suspended",
        "status:online",
    ]
    feed = await content.client.get(
        "/api/content/v1/changes", params={"topics": "site.created,site.status"}, headers=content.admin
    )
    assert [e["topic"] for e in feed.json()["items"]] == ["site.created"] + ["site.status"] * 3


async def test_site_admin_edits_own_site_but_not_domains(content: Content) -> None:
    await content.site("jtj")
    own = await content.client.patch(
        "/api/content/v1/sites/jtj", json={"responsible_person": "李四"}, headers=content.site_admin("jtj")
    )
    assert own.status_code == 200 and own.json()["responsible_person"] == "李四"
    domains = await content.client.patch(
        "/api/content/v1/sites/jtj", json={"domains": ["evil.example.cn"]}, headers=content.site_admin("jtj")
    )
    assert domains.status_code == 403
    other = await content.client.patch(
        "/api/content/v1/sites/jtj", json={"responsible_person": "王五"}, headers=content.site_admin("wjw")
    )
    assert other.status_code == 404
