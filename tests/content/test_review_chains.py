"""Review chains name reviewer kinds only; nobody reviews an item they wrote or submitted (issue 12)."""

from __future__ import annotations

import pytest

from tests.content.conftest import Content


@pytest.mark.parametrize(
    "chain",
    [["editor"], ["reviewer", "editor"], ["auditor"], ["platform_admin"], []],
)
async def test_a_chain_step_must_name_a_reviewer_role(content: Content, chain: list[str]) -> None:
    await content.site("jtj")
    made = await content.client.post(
        "/api/content/v1/sites/jtj/columns",
        json={"name": "政务动态", "review_chain": chain},
        headers=content.site_admin("jtj"),
    )
    assert made.status_code == 422, made.text
    assert made.headers["content-type"].startswith("application/problem+json")
    assert "review_chain" in made.text


async def test_a_chain_cannot_be_changed_to_name_the_editor(content: Content) -> None:
    await content.site("jtj")
    column = await content.column("jtj", "政务动态", chain=["reviewer", "site_admin"])
    changed = await content.client.patch(
        f"/api/content/v1/sites/jtj/columns/{column}",
        json={"review_chain": ["editor"]},
        headers=content.site_admin("jtj"),
    )
    assert changed.status_code == 422 and "review_chain" in changed.text
    kept = await content.client.get(f"/api/content/v1/sites/jtj/columns/{column}", headers=content.admin)
    assert kept.json()["review_chain"] == ["reviewer", "site_admin"]


async def test_the_author_may_not_approve_their_own_item(content: Content) -> None:
    await content.site("jtj")
    column = await content.column("jtj", "政务动态", chain=["reviewer"])
    # The author also holds the reviewer role; somebody else submits the item.
    author = content.as_("wang", ("editor", "jtj"), ("reviewer", "jtj"))
    rid = content.library.add("王某撰写的通知")
    placed = await content.client.post(
        "/api/content/v1/sites/jtj/publications",
        json={"column_id": column, "resource_id": rid, "resource_version": 1},
        headers=author,
    )
    assert placed.status_code == 201, placed.text
    pid = placed.json()["id"]
    assert (await content.act(pid, "submit", content.editor("jtj", "li"))).status_code == 200

    refused = await content.approve(pid, author)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    rejected = await content.act(pid, "reject", author, opinion="自己退回")
    assert rejected.status_code == 403
    inbox = (await content.client.get("/api/content/v1/inbox", headers=author)).json()
    assert pid not in [i["id"] for i in inbox["items"]]

    detail = (await content.client.get(f"/api/content/v1/publications/{pid}", headers=content.admin)).json()
    assert detail["status"] == "in_review"
    refusals = [r for r in detail["reviews"] if r["action"] == "refused"]
    assert [r["actor"] for r in refusals] == ["wang", "wang"]
    assert "撰写" in refusals[0]["opinion"]

    assert (await content.approve(pid, content.reviewer("jtj", 1))).json()["status"] == "approved"


async def test_the_submitter_may_not_approve_at_any_step(content: Content) -> None:
    await content.site("jtj")
    column = await content.column("jtj", "政务动态", chain=["reviewer", "site_admin"])
    placed = await content.place("jtj", column, "两级审核的通知")
    submitter = content.as_("zhao", ("editor", "jtj"), ("reviewer", "jtj"), ("site_admin", "jtj"))
    assert (await content.act(placed["id"], "submit", submitter)).status_code == 200
    assert (await content.approve(placed["id"], submitter)).status_code == 403
    assert (await content.approve(placed["id"], content.reviewer("jtj", 1))).status_code == 200
    assert (await content.approve(placed["id"], submitter)).status_code == 403
    detail = await content.client.get(f"/api/content/v1/publications/{placed['id']}", headers=content.admin)
    assert [r["actor"] for r in detail.json()["reviews"] if r["action"] == "refused"] == ["zhao", "zhao"]
