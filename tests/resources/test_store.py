"""Drafts, 入库, versions, tenancy and the internal version contract."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.resources.conftest import Actors, create_draft, policy_metadata
from tests.support import real
from tests.support.services import running_service

API = "/api/resources/v1"


async def store(client: httpx.AsyncClient, rid: int, headers: dict[str, str]) -> httpx.Response:
    return await client.post(f"{API}/resources/{rid}/store", headers=headers)


async def test_store_normalises_and_assigns_index_numbers_per_org_and_year(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    body = '<p onclick="x()">正文<script>alert(1)</script><b style="color:red">重点</b></p>'
    first = await create_draft(client, actors.editor, body_html=body, doc_no="丹政发（2019）043号")
    resp = await store(client, first["id"], actors.editor)
    assert resp.status_code == 200, resp.text
    stored = resp.json()
    assert stored["status"] == "stored" and stored["version"] == 1
    assert stored["index_no"] == "DDSZF/2019-00001"
    assert stored["metadata"]["doc_no"] == "丹政发〔2019〕43号"
    assert stored["metadata"]["written_at"] == "2019-06-12"
    assert "script" not in stored["body_html"] and "onclick" not in stored["body_html"]
    assert "style" not in stored["body_html"] and "<b>重点</b>" in stored["body_html"]
    assert stored["body_text"] == "正文重点"
    second = await create_draft(client, actors.editor)
    assert (await store(client, second["id"], actors.editor)).json()["index_no"] == "DDSZF/2019-00002"
    other_year = await create_draft(client, actors.editor, written_at="2020-01-02", published_at=None)
    assert (await store(client, other_year["id"], actors.editor)).json()["index_no"] == "DDSZF/2020-00001"
    # storing again needs a new draft
    again = await store(client, first["id"], actors.editor)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    changes = await client.get(
        f"{API}/changes", headers=actors.internal, params={"topics": "resource.stored"}
    )
    events = changes.json()["items"]
    assert [e["payload"]["resource_id"] for e in events] == [first["id"], second["id"], other_year["id"]]
    assert set(events[0]["payload"]) == {
        "tamper",
        "resource_id",
        "version",
        "status",
        "title",
        "owner_site",
        "owner_org",
        "scope",
    }


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"written_at": "2019-02-30"}, "metadata.written_at"),
        ({"published_at": "昨天"}, "metadata.published_at"),
        ({"topic": "no-such-topic"}, "metadata.topic"),
        ({"genre": "小说"}, "metadata.genre"),
        ({"validity": "半有效"}, "metadata.validity"),
        ({"issuer_org": {"code": "../x", "name": "某"}}, "metadata.issuer_org.code"),
    ],
)
async def test_bad_metadata_is_422_naming_the_field_and_leaves_nothing(
    client: httpx.AsyncClient, actors: Actors, meta: dict[str, object], field: str
) -> None:
    resp = await client.post(
        f"{API}/resources", json={"metadata": policy_metadata(**meta)}, headers=actors.editor
    )
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in resp.json()["errors"]]
    listing = await client.get(f"{API}/resources", headers=actors.editor)
    assert listing.json()["total"] == 0


async def test_genre_requirements_are_checked_at_store(client: httpx.AsyncClient, actors: Actors) -> None:
    no_doc_no = await create_draft(client, actors.editor, doc_no=None)
    resp = await store(client, no_doc_no["id"], actors.editor)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "metadata.doc_no"

    interp = await create_draft(client, actors.editor, genre="jiedu", doc_no=None, title="解读")
    resp = await store(client, interp["id"], actors.editor)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "metadata.relations"

    dangling = {"relations": [{"type": "interpretation-of", "resource_id": 999}]}
    await client.patch(
        f"{API}/resources/{interp['id']}",
        json={"metadata": policy_metadata(genre="jiedu", doc_no=None, **dangling)},
        headers=actors.editor,
    )
    resp = await store(client, interp["id"], actors.editor)
    assert resp.json()["errors"][0]["field"] == "metadata.relations.0.resource_id"

    policy = await create_draft(client, actors.editor)
    rel = {"relations": [{"type": "interpretation-of", "resource_id": policy["id"]}]}
    await client.patch(
        f"{API}/resources/{interp['id']}",
        json={"metadata": policy_metadata(genre="jiedu", doc_no=None, **rel)},
        headers=actors.editor,
    )
    assert (await store(client, interp["id"], actors.editor)).status_code == 200


async def test_blocked_body_is_refused_then_stores_once_fixed(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    leaked = "<p>经审核，同意为王某（身份证号：11010519491231002X）办理低保。</p>"
    draft = await create_draft(client, actors.editor, body_html=leaked)
    resp = await store(client, draft["id"], actors.editor)
    assert resp.status_code == 422
    problem = resp.json()
    assert problem["type"].endswith("review-blocked")
    assert [f["rule"] for f in problem["extra"]["findings"]] == ["privacy.id-number"]
    unchanged = await client.get(f"{API}/resources/{draft['id']}", headers=actors.editor)
    assert unchanged.json()["status"] == "draft" and unchanged.json()["index_no"] is None

    fixed = "<p>经审核，同意为王某办理低保。联系电话 13812345678。</p>"
    await client.patch(f"{API}/resources/{draft['id']}", json={"body_html": fixed}, headers=actors.editor)
    ok = await store(client, draft["id"], actors.editor)
    assert ok.status_code == 200
    assert [f["rule"] for f in ok.json()["findings"]] == ["privacy.mobile"]  # a warning stays on record


async def test_editing_stored_resource_makes_new_draft_and_stored_stays_pinned(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    draft = await create_draft(client, actors.editor, body_html="<p>第一版</p>")
    rid = draft["id"]
    await store(client, rid, actors.editor)
    resp = await client.patch(
        f"{API}/resources/{rid}", json={"body_html": "<p>第二版</p>"}, headers=actors.editor
    )
    assert resp.json()["latest_version"] == 2 and resp.json()["stored_version"] == 1
    pinned = await client.get(
        f"{API}/resources/{rid}/versions/1", params={"for_site": "jtj"}, headers=actors.internal
    )
    assert pinned.status_code == 200 and pinned.json()["body_text"] == "第一版"
    unstored = await client.get(
        f"{API}/resources/{rid}/versions/2", params={"for_site": "jtj"}, headers=actors.internal
    )
    assert unstored.status_code == 409
    await store(client, rid, actors.editor)
    history = (await client.get(f"{API}/resources/{rid}/versions", headers=actors.editor)).json()
    assert [(v["version"], v["status"]) for v in history] == [(1, "stored"), (2, "stored")]
    v2 = await client.get(
        f"{API}/resources/{rid}/versions/2", params={"for_site": "jtj"}, headers=actors.internal
    )
    assert v2.json()["index_no"] == pinned.json()["index_no"]  # one document, one 索引号


async def test_tenancy_and_sharing_scope(client: httpx.AsyncClient, actors: Actors) -> None:
    draft = await create_draft(client, actors.editor)
    rid = draft["id"]
    # another site's editor cannot see or touch the draft
    assert (await client.get(f"{API}/resources/{rid}", headers=actors.other_editor)).status_code == 404
    patch = await client.patch(f"{API}/resources/{rid}", json={"body_html": "x"}, headers=actors.other_editor)
    assert patch.status_code == 404
    assert (await store(client, rid, actors.other_editor)).status_code == 404
    await store(client, rid, actors.editor)
    url = f"{API}/resources/{rid}/versions/1"
    assert (await client.get(url, params={"for_site": "jtj"}, headers=actors.internal)).status_code == 200
    assert (await client.get(url, params={"for_site": "wjw"}, headers=actors.internal)).status_code == 404
    assert (await client.get(f"{API}/resources/{rid}", headers=actors.other_editor)).status_code == 404
    await client.patch(f"{API}/resources/{rid}", json={"scope": "platform"}, headers=actors.editor)
    assert (await client.get(url, params={"for_site": "wjw"}, headers=actors.internal)).status_code == 200
    # The sharing scope says where it may be placed, not who may read the library: another
    # site's editor still holds no binding on the owning site.
    assert (await client.get(f"{API}/resources/{rid}", headers=actors.other_editor)).status_code == 404
    assert (await client.get(f"{API}/resources/{rid}")).status_code == 404  # not public


async def test_creating_needs_a_writer_role_on_the_site(
    client: httpx.AsyncClient, actors: Actors, issuer
) -> None:  # type: ignore[no-untyped-def]
    reviewer = issuer.headers("rv", [("reviewer", "jtj")], site="jtj")
    resp = await client.post(f"{API}/resources", json={"metadata": policy_metadata()}, headers=reviewer)
    assert resp.status_code == 403
    no_site = dict(actors.editor)
    no_site.pop("X-Jiyue-Site")
    assert (
        await client.post(f"{API}/resources", json={"metadata": policy_metadata()}, headers=no_site)
    ).status_code == 404
    other = {"metadata": policy_metadata(), "owner_site": "wjw"}
    assert (await client.post(f"{API}/resources", json=other, headers=actors.editor)).status_code == 403
    made = await client.post(f"{API}/resources", json=other, headers=actors.admin)
    assert made.status_code == 201 and made.json()["owner_site"] == "wjw"


async def test_vocabularies_are_served(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{API}/vocabularies")).json()
    genres = {g["code"]: g for g in body["genres"]}
    assert genres["zhengce"]["name"] == "政策文件" and "doc_no" in genres["zhengce"]["requires"]
    assert any(t["name"] == "综合政务" for t in body["topics"])


async def test_openapi_documents_metadata_in_chinese(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["ResourceMetadata"]
    assert schema["properties"]["doc_no"]["description"].startswith("文号")
    assert "schema_version" in schema["properties"]


@pytest.mark.integration
async def test_store_and_index_numbers_on_postgres(tmp_path, issuer) -> None:  # type: ignore[no-untyped-def]
    url = await real.fresh_postgres_database()
    actors = Actors(issuer)
    async with running_service("resources", tmp_path / "pg", issuer, database_url=url) as (_app, pg_client):
        ids = [(await create_draft(pg_client, actors.editor))["id"] for _ in range(3)]
        numbers = [(await store(pg_client, rid, actors.editor)).json()["index_no"] for rid in ids]
        assert numbers == ["DDSZF/2019-00001", "DDSZF/2019-00002", "DDSZF/2019-00003"]
        blocked = await create_draft(pg_client, actors.editor, body_html="<p>卡号 6222021234567890128</p>")
        assert (await store(pg_client, blocked["id"], actors.editor)).status_code == 422
        fresh = await create_draft(pg_client, actors.editor)
        assert (await store(pg_client, fresh["id"], actors.editor)).json()["index_no"] == "DDSZF/2019-00004"


async def test_operator_folder_extends_vocabularies(tmp_path, issuer) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "lexicons"
    extra.mkdir()
    (extra / "vocabularies.json").write_text(
        json.dumps({"genres": [{"code": "huiyi", "name": "会议纪要"}]}, ensure_ascii=False), encoding="utf-8"
    )
    actors = Actors(issuer)
    async with running_service("resources", tmp_path / "var", issuer, resources_lexicon_dir=extra) as (_a, c):
        genres = {g["code"] for g in (await c.get(f"{API}/vocabularies")).json()["genres"]}
        assert {"huiyi", "zhengce"} <= genres
        made = await create_draft(c, actors.editor, genre="huiyi", doc_no=None)
        assert (await store(c, made["id"], actors.editor)).status_code == 200
