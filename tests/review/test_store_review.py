"""入库 runs the tampering review with the title, the site's organisation and the previous version."""

from __future__ import annotations

import httpx

from tests.resources.conftest import Actors, create_draft

API = "/api/resources/v1"
BODY = (
    "<p>各县(市)区人民政府、市政府各部门：</p><p>《丹东市政府网站管理办法》已经市政府同意，现印发给你们。</p>"
    "<p>丹东市人民政府办公室</p>"
)


async def test_store_refuses_issuer_swapped_against_previous_version(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    draft = await create_draft(client, actors.editor, body_html=BODY)
    rid = draft["id"]
    stored = await client.post(f"{API}/resources/{rid}/store", headers=actors.editor)
    assert stored.status_code == 200, stored.text
    # The next version's signature names another issuer; on its own the text would pass.
    swapped = BODY.replace("<p>丹东市人民政府办公室</p>", "<p>振兴实业人民政府办公室</p>")
    resp = await client.patch(f"{API}/resources/{rid}", json={"body_html": swapped}, headers=actors.editor)
    assert resp.status_code == 200, resp.text
    refused = await client.post(f"{API}/resources/{rid}/store", headers=actors.editor)
    assert refused.status_code == 422, refused.text
    findings = refused.json()["extra"]["findings"]
    assert [f["rule"] for f in findings] == ["tamper.issuer-changed"]
    assert findings[0]["detector"] == "version-diff" and "丹东" in findings[0]["reason"]


async def test_store_reviews_the_title_and_knows_the_own_organisation(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    brand_title = await create_draft(
        client, actors.editor, body_html=BODY, title="【瑞禾盛】丹东市政府网站管理办法"
    )
    refused = await client.post(f"{API}/resources/{brand_title['id']}/store", headers=actors.editor)
    assert refused.status_code == 422 and "tamper.title-prefix" in {
        f["rule"] for f in refused.json()["extra"]["findings"]
    }
    # 集约市 is no division of the gazetteer; it is the site's own organisation, so it passes.
    own = "<p>集约市人民政府办公室关于印发集约市政府网站管理办法的通知</p><p>各部门：现印发给你们。</p><p>集约市人民政府办公室</p>"
    draft = await create_draft(
        client,
        actors.editor,
        body_html=own,
        title="集约市政府网站管理办法",
        issuer_org={"code": "JYSZF", "name": "集约市人民政府"},
        doc_no="集政发〔2019〕1号",
    )
    stored = await client.post(f"{API}/resources/{draft['id']}/store", headers=actors.editor)
    assert stored.status_code == 200, stored.text


async def test_checks_endpoint_reports_detector_and_reason(client: httpx.AsyncClient, actors: Actors) -> None:
    resp = await client.post(
        f"{API}/checks",
        json={"text": "瑞禾盛人民政府办公室关于印发瑞禾盛政府网站管理办法的通知\n瑞禾盛人民政府"},
        headers=actors.editor,
    )
    assert resp.status_code == 200, resp.text
    first = next(f for f in resp.json()["findings"] if f["rule"] == "tamper.unknown-issuer")
    assert (
        first["severity"] == "block" and first["detector"] == "issuer-frame" and "瑞禾盛" in first["reason"]
    )
