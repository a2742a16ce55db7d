from __future__ import annotations

import httpx

from tests.resources.conftest import Actors, create_draft


async def test_draft_then_store_assigns_index_no(client: httpx.AsyncClient, actors: Actors) -> None:
    draft = await create_draft(client, actors.editor)
    assert draft["status"] == "draft" and draft["current"]["metadata"]["doc_no"] == "丹政发〔2019〕43号"
    resp = await client.post(f"/api/resources/v1/resources/{draft['id']}/store", headers=actors.editor)
    assert resp.status_code == 200, resp.text
    assert resp.json()["index_no"] == "DDSZF/2019-00001"
