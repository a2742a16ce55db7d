"""The search API over both engines: one body of tests, parametrised by backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.kernel import clock
from services.kernel.purge import purge_once
from services.search.models import QueryLog
from services.search.querylog import forget_clients, query_statistics
from tests.search.conftest import SearchHarness

POLICY = "关于深入推进政务公开工作的实施意见"
POLICY_BODY = (
    "为贯彻落实《关于全面推进政务公开工作的意见》，进一步做好信息公开，优化营商环境，"
    "推行一网通办，结合本市实际，提出如下实施意见。参照国办发〔2017〕47号文件执行。"
)


async def seed(h: SearchHarness) -> None:
    c = h.content
    c.publish(
        1, title=POLICY, body_text=POLICY_BODY, doc_no="示政办发〔2023〕12号", genre="意见", topic="政务公开"
    )
    c.publish(
        2,
        title="城乡居民医疗保险参保缴费的通知",
        body_text="城乡居民基本医疗保险个人缴费标准调整。",
        genre="通知",
        topic="社会保障",
    )
    c.publish(
        3,
        title="住房公积金提取办法",
        body_text="职工提取住房公积金的条件和材料。",
        column_id=2,
        column_name="通知公告",
    )
    c.publish(
        4,
        title="县政府信息公开年度报告",
        body_text="本县政府信息公开工作情况。",
        site="county",
        site_name="示范县",
    )
    # the same resource re-published on a county site
    c.publish(5, title=POLICY, body_text=POLICY_BODY, resource_id=1, site="county", site_name="示范县")
    c.publish(6, title="旧版办事指南", body_text="政务服务事项办事指南（旧版）。")
    c.change(6, "archived")
    c.publish(7, title="已撤回的通知", body_text="政务公开测试，撤回。")
    c.change(7, "withdrawn")
    await h.catch_up()


def ids(resp) -> list[int]:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text
    return [item["id"] for item in resp.json()["items"]]


async def test_two_and_four_character_words_and_synonyms_match(harness: SearchHarness) -> None:
    await seed(harness)
    assert ids(await harness.search("政务", site="portal")) == [1]
    assert set(ids(await harness.search("信息公开", scope="platform"))) == {1, 4}
    assert ids(await harness.search("医保", site="portal")) == [2]  # the text says 医疗保险
    assert ids(await harness.search("公积金", site="portal")) == [3]
    assert ids(await harness.search("营商环境", site="portal")) == [1]


async def test_title_phrase_ranks_first_with_highlighted_snippet(harness: SearchHarness) -> None:
    await seed(harness)
    resp = await harness.search("深入推进政务公开", site="portal")
    body = resp.json()
    assert ids(resp)[0] == 1
    item = body["items"][0]
    assert "<em>" in item["snippet"]
    assert item["title"] == POLICY and item["url"] == "/api/content/v1/items/1"
    assert item["published_at"].startswith("2024-01-02")


@pytest.mark.parametrize(
    "typed",
    ["示政办发〔2023〕12号", "示政办发[2023]12号", "示政办发（2023）12号", "示政办发【２０２３】１２号"],
)
async def test_doc_no_in_any_bracket_style_matches_exactly(harness: SearchHarness, typed: str) -> None:
    await seed(harness)
    assert ids(await harness.search(typed, site="portal")) == [1]
    # A different serial is a different document, not a near match.
    assert ids(await harness.search("示政办发[2023]13号", site="portal")) == []


async def test_scopes_group_republished_resource_and_keep_tenants_apart(harness: SearchHarness) -> None:
    await seed(harness)
    assert ids(await harness.search(POLICY, site="county")) == [5]
    platform = (await harness.search(POLICY, scope="platform")).json()
    assert platform["scope"] == "platform"
    assert [i["resource_id"] for i in platform["items"]].count(1) == 1
    hit = next(i for i in platform["items"] if i["resource_id"] == 1)
    assert {s["site"] for s in hit["sites"]} == {"portal", "county"}
    # without a tenant the default scope is the platform; site scope then needs one
    assert (await harness.search("政务")).json()["scope"] == "platform"
    resp = await harness.search("政务", scope="site")
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "scope"


async def test_withdrawn_removed_archived_only_on_request(harness: SearchHarness) -> None:
    await seed(harness)
    assert ids(await harness.search("撤回", site="portal", archived="include")) == []
    assert ids(await harness.search("办事指南", site="portal")) == []
    archived = (await harness.search("办事指南", site="portal", archived="include")).json()["items"]
    assert [i["id"] for i in archived] == [6] and archived[0]["archived"] and archived[0]["archived_at"]
    assert ids(await harness.search("办事指南", site="portal", archived="only")) == [6]


async def test_filters_sort_and_pagination(harness: SearchHarness) -> None:
    await seed(harness)
    assert ids(await harness.search("提取", site="portal", column=2)) == [3]
    assert ids(await harness.search("提取", site="portal", column=1)) == []
    assert ids(await harness.search("缴费", site="portal", genre="通知", topic="社会保障")) == [2]
    assert ids(await harness.search("缴费", site="portal", genre="意见")) == []
    # published_at of publication n is 2024-01-01 + n days
    assert set(
        ids(await harness.search("公开", scope="platform", **{"from": "2024-01-02", "to": "2024-01-05"}))
    ) == {1, 4}
    assert ids(await harness.search("公开", scope="platform", **{"from": "2024-01-06"})) == []
    by_date = ids(await harness.search("公开", scope="platform", sort="date"))
    assert by_date == [4, 1]
    page = (await harness.search("公开", scope="platform", sort="date", size=1, page=2)).json()
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [1]


@pytest.mark.parametrize(
    "q",
    [
        "政" * 2000,
        "。，、！？；：“”（）《》……——",
        '"政务" AND (公开 OR 信息:*) ~2 \\ [a TO b] {x} ^3 +-&&||/',
        "   ",
        "国办发〔2017〕47号 " * 100,
    ],
)
async def test_hostile_queries_get_sane_answers(harness: SearchHarness, q: str) -> None:
    await seed(harness)
    resp = await harness.search(q, scope="platform")
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] >= 0


async def test_empty_and_oversized_queries_are_422_naming_q(harness: SearchHarness) -> None:
    for q in ["", "政" * 2001]:
        resp = await harness.search(q)
        assert resp.status_code == 422
        assert resp.json()["errors"][0]["field"] == "q"


async def test_suggest_completes_titles_and_zero_results_offer_a_correction(harness: SearchHarness) -> None:
    await seed(harness)
    resp = await harness.client.get(
        "/api/search/v1/suggest", params={"q": "住房公"}, headers={"X-Jiyue-Site": "portal"}
    )
    assert resp.status_code == 200 and resp.json()["items"] == ["住房公积金提取办法"]
    resp = await harness.client.get("/api/search/v1/suggest", params={"q": "城乡居民医"})
    assert "城乡居民医疗保险参保缴费的通知" in resp.json()["items"]
    miss = (await harness.search("营商坏境", site="portal")).json()
    assert miss["total"] == 0 and miss["suggestion"] == "营商环境"
    found = (await harness.search("政务", site="portal")).json()
    assert found["suggestion"] is None


async def test_queries_are_logged_without_address_or_token(harness: SearchHarness) -> None:
    await seed(harness)
    resp = await harness.client.get(
        "/api/search/v1/search",
        params={"q": "医保"},
        headers={"X-Jiyue-Site": "portal", "X-Jiyue-Client-Ip": "2001:db8::7"},
    )
    assert resp.status_code == 200
    # Written in batches off the request path; flush as the worker would.
    assert await harness.app.state.ctx.state.querylog.flush() == 1
    async with harness.app.state.ctx.db.session() as s:
        rows = (await s.execute(select(QueryLog))).scalars().all()
    assert [(r.query, r.site, r.total) for r in rows] == [("医保", "portal", 1)]
    # A 32-hex hash, never the address (a bare "2001" can occur in a random hash by chance).
    assert rows[0].client_hash != "2001:db8::7" and ":" not in rows[0].client_hash
    assert len(rows[0].client_hash) == 32 and int(rows[0].client_hash, 16) >= 0

    # A day later the hash is gone (issue 18: no address or hash of one older than a day);
    # the statistics, which only count queries, are unchanged.
    db = harness.app.state.ctx.db
    assert await purge_once(db, "search-query-clients", forget_clients) == 0  # still today's
    clock.shift(timedelta(days=1, minutes=1))
    try:
        assert await purge_once(db, "search-query-clients", forget_clients) == 1
        async with db.session() as s:
            rows = (await s.execute(select(QueryLog))).scalars().all()
            stats = await query_statistics(s, "portal", clock.now() - timedelta(days=2), clock.now(), 10)
        assert [(r.query, r.client_hash) for r in rows] == [("医保", "")]
        assert stats[:2] == (1, [("医保", 1)])
    finally:
        clock.reset()


async def test_lag_on_readyz_and_metrics(harness: SearchHarness) -> None:
    harness.content.publish(1, title="测试")
    harness.content.publish(2, title="测试二")
    await harness.consumer.acquire_lease()
    consumer = harness.consumer
    cursor = consumer.tables.cursor
    async with consumer.db.session() as session:  # the source's head seen, nothing processed yet
        await session.execute(update(cursor).where(cursor.c.name == consumer.name).values(source_head=2))
    ready = (await harness.client.get("/readyz")).json()
    assert ready["checks"]["feed:search-publications"]["lag"] == 2
    assert ready["checks"]["search-engine"]["status"] == "ok"
    await harness.catch_up()
    metrics = (await harness.client.get("/metrics")).text
    assert 'jiyue_feed_lag{consumer="search-publications"} 0.0' in metrics
    assert (await harness.client.get("/readyz")).json()["checks"]["feed:search-publications"]["lag"] == 0
