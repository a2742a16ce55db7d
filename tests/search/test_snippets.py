"""Snippets from a hit's head of the body are the snippets of the whole body, on both engines."""

from __future__ import annotations

import random

from services.search.backends.base import BODY_HEAD_CHARS, IndexDoc
from services.search.querying import head_snippet, make_snippet, stored_bodies
from tests.search.conftest import SearchHarness

FILLER = "本条例所称政府网站，是指各级人民政府及其部门在互联网上设立的网站。\n\n"


def _long_body(marker: str, at: int) -> str:
    text = (FILLER * (at // len(FILLER) + 1))[:at]
    return text + marker + "的实施办法由国务院另行规定。" + FILLER * 40


def test_head_snippet_equals_the_whole_bodys_or_declines() -> None:
    rng = random.Random(14)
    words = [
        "政府",
        "网站",
        "人民",
        "互联网",
        "国务院",
        "实施办法",
        "设立",
        "Web",
        "web",
        "另行规定",
        "无此词",
    ]
    decided = 0
    for _ in range(600):
        body = _long_body(rng.choice(["数据安全", "网站群", "WEB"]), rng.randint(0, 4 * BODY_HEAD_CHARS))
        body = body[: rng.randint(BODY_HEAD_CHARS // 2, len(body))]
        terms = sorted(set(rng.sample(words, rng.randint(0, 3))), key=len, reverse=True)
        stored = IndexDoc.from_stored(
            IndexDoc(id=1, resource_id=1, site="s", title="t", body=body, url="/").stored()
        )
        assert stored.body_cut == (len(body.rstrip()) > BODY_HEAD_CHARS)
        whole = make_snippet(body, terms)
        if not stored.body_cut:
            assert make_snippet(stored.body, terms) == whole
            continue
        from_head = head_snippet(stored.body, terms)
        if from_head is not None:
            decided += 1
            assert from_head == whole, (terms, body[:80])
    assert decided > 100  # the head decides for most hits, or it would not be worth having


async def test_a_match_beyond_the_head_is_shown_from_the_whole_body(harness: SearchHarness) -> None:
    far = _long_body("数据安全", 3 * BODY_HEAD_CHARS)
    near = _long_body("数据安全", 40)
    harness.content.publish(1, title="政府网站管理办法", body_text=far)
    harness.content.publish(2, title="政府网站建设规范", body_text=near)
    harness.content.publish(3, title="政府网站短文", body_text="政府网站应当保障数据安全。")
    await harness.catch_up()
    resp = await harness.search("数据安全", scope="platform")
    assert resp.status_code == 200, resp.text
    shown = {item["id"]: item["snippet"] for item in resp.json()["items"]}
    assert shown == {
        i: make_snippet(body, ["数据安全"])
        for i, body in ((1, far), (2, near), (3, "政府网站应当保障数据安全。"))
    }
    assert "<em>数据安全</em>" in shown[1] and shown[1].startswith("…")
    # the documents behind the long bodies are no hits of their own, and not counted
    assert resp.json()["total"] == 3
    if harness.backend.name == "tantivy":  # one document per hit, no second copy of a long body
        assert (await harness.backend.ping())["documents"] == 3
    assert await harness.backend.ids() == {1, 2, 3}
    again = await harness.search("数据安全", scope="platform")  # the whole body's snippet, kept
    assert {item["id"]: item["snippet"] for item in again.json()["items"]} == shown
    # a body that changes replaces its whole body too; a withdrawn one leaves nothing behind.
    # The head stays the same, only the revision tells the kept snippet is stale.
    assert make_snippet(_long_body("数据安全", 2 * BODY_HEAD_CHARS), ["数据安全"]) != shown[1]
    harness.content.publish(
        1, title="政府网站管理办法", body_text=_long_body("数据安全", 2 * BODY_HEAD_CHARS)
    )
    harness.content.change(2, "withdrawn")
    await harness.catch_up()
    db = harness.app.state.ctx.db
    assert await stored_bodies(db, [1, 2]) == {1: _long_body("数据安全", 2 * BODY_HEAD_CHARS)}
    resp = await harness.search("数据安全", scope="platform")
    assert [item["snippet"] for item in resp.json()["items"] if item["id"] == 1] == [
        make_snippet(_long_body("数据安全", 2 * BODY_HEAD_CHARS), ["数据安全"])
    ]
