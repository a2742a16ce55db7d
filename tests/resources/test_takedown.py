"""Objects follow their users; a takedown makes them unreachable at once, audited, then destroyed."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx

from services.kernel import clock
from services.resources.models import feed_tables
from services.resources.workers import purge_pass
from tests.resources.conftest import Actors, create_draft
from tests.resources.test_uploads import PDF, upload
from tests.resources.test_usage import feed, publication_event
from tests.support.tokens import TestIssuer

API = "/api/resources/v1"
SHA = hashlib.sha256(PDF).hexdigest()
URL = f"{API}/objects/{SHA}"


async def _with_pdf(client: httpx.AsyncClient, actors: Actors, *, store: bool = True) -> int:
    draft = await create_draft(client, actors.editor)
    rid = int(draft["id"])
    assert (await upload(client, rid, actors.editor, "名单.pdf", PDF)).status_code == 201
    if store:
        assert (await client.post(f"{API}/resources/{rid}/store", headers=actors.editor)).status_code == 200
    return rid


async def test_an_object_is_public_only_while_a_live_publication_shows_it(
    service: tuple[Any, httpx.AsyncClient], actors: Actors, issuer: TestIssuer
) -> None:
    app, client = service
    rid = await _with_pdf(client, actors)
    citizen = issuer.headers("citizen01", [("citizen", None)], site="jtj")
    for headers in ({}, citizen, actors.other_editor):
        assert (await client.get(URL, headers=headers)).status_code == 404
        assert (await client.get(f"{URL}/link", headers=headers)).status_code == 404
    private = await client.get(URL, headers=actors.editor)
    assert private.status_code == 200 and private.headers["cache-control"] == "private, no-store"

    await feed(app, [publication_event(1, 61, rid, "published")])
    public = await client.get(URL)
    assert public.status_code == 200 and public.content == PDF
    assert public.headers["cache-control"] == "public, no-cache"  # never a year-long immutable
    etag = public.headers["etag"]
    assert (await client.get(URL, headers={"If-None-Match": etag})).status_code == 304

    await feed(app, [publication_event(2, 61, rid, "withdrawn")])
    assert (await client.get(URL, headers={"If-None-Match": etag})).status_code == 404
    assert (await client.get(URL)).status_code == 404

    retired = await client.post(
        f"{API}/resources/{rid}/retire", json={"reason": "废止"}, headers=actors.admin
    )
    assert retired.status_code == 200, retired.text
    # A retired resource's objects stay closed even if a late event says a page shows it.
    await feed(app, [publication_event(3, 62, rid, "published")])
    assert (await client.get(URL)).status_code == 404


async def test_takedown_is_immediate_audited_announced_and_purged_after_retention(
    service: tuple[Any, httpx.AsyncClient], actors: Actors, issuer: TestIssuer
) -> None:
    app, client = service
    rid = await _with_pdf(client, actors)
    await feed(app, [publication_event(1, 71, rid, "published")])
    first = await client.get(URL)
    assert first.status_code == 200
    etag = first.headers["etag"]

    body = {"reason": "附件含居民身份证号"}
    for refused in (actors.editor, issuer.headers("sec", [("security_admin", None)])):
        assert (
            await client.post(f"{API}/resources/{rid}/takedown", json=body, headers=refused)
        ).status_code == 403
    resp = await client.post(f"{API}/resources/{rid}/takedown", json=body, headers=actors.admin)
    assert resp.status_code == 200, resp.text
    record = resp.json()
    assert record["objects"] == [SHA] and record["actor"] == "root" and record["at"].endswith("+08:00")

    for headers in ({"If-None-Match": etag}, {}, actors.editor, actors.admin):
        assert (await client.get(URL, headers=headers)).status_code == 404
    assert (await client.get(f"{API}/resources/{rid}", headers={"X-Jiyue-Site": "jtj"})).status_code == 404
    again = await client.post(
        f"{API}/resources/{rid}/attachments", files={"file": ("x.pdf", PDF)}, headers=actors.editor
    )
    assert again.status_code == 409
    placed = await client.get(
        f"{API}/resources/{rid}/versions/1", params={"for_site": "jtj"}, headers=actors.internal
    )
    assert placed.status_code == 404

    ctx = app.state.ctx
    async with ctx.db.session() as session:
        rows = (
            (
                await session.execute(
                    feed_tables.outbox.select().where(feed_tables.outbox.c.topic == "resource.takendown")
                )
            )
            .mappings()
            .all()
        )
    assert [(r["key"], r["payload"]["reason"]) for r in rows] == [(str(rid), "附件含居民身份证号")]

    audit_admin = issuer.headers("aud", [("audit_admin", None)])
    listed = await client.get(f"{API}/takedowns", headers=audit_admin)
    assert listed.status_code == 200 and listed.json()["items"][0]["reason"] == "附件含居民身份证号"
    assert (await client.get(f"{API}/takedowns", headers=actors.editor)).status_code == 403

    store = ctx.state.store
    assert await purge_pass(ctx, store) == 0 and await store.size(SHA) is not None  # still retained
    clock.shift(timedelta(hours=721))
    try:
        assert await purge_pass(ctx, store) == 1
    finally:
        clock.reset()
    assert await store.size(SHA) is None
    done = (await client.get(f"{API}/takedowns", headers=actors.admin)).json()["items"][0]
    assert done["purged_at"] is not None


async def test_one_object_can_be_taken_down(service: tuple[Any, httpx.AsyncClient], actors: Actors) -> None:
    app, client = service
    rid = await _with_pdf(client, actors)
    await feed(app, [publication_event(1, 81, rid, "published")])
    assert (await client.get(URL)).status_code == 200
    resp = await client.post(f"{API}/objects/{SHA}/takedown", json={"reason": "误传"}, headers=actors.admin)
    assert resp.status_code == 200 and resp.json()["sha256"] == SHA
    assert (await client.get(URL)).status_code == 404
    # The resource itself stays; only the bytes are gone.
    assert (await client.get(f"{API}/resources/{rid}")).status_code == 200
    missing = await client.post(
        f"{API}/objects/{'0' * 64}/takedown", json={"reason": "x"}, headers=actors.admin
    )
    assert missing.status_code == 404
