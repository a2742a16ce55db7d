"""Demo step: about two hundred published articles, each through the real publishing flow.

Each article is created in the resource library, stored (入库), placed in its column by the
site's editor, approved by the site's two reviewers and published. Titles identify articles in
their column, so a second run skips what is already there.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from rich.progress import Progress

from gateway.demo.city import SITES, DemoSite
from gateway.demo.prose import Article, articles_for

API = "/api/content/v1"
CHECK = {
    "opinion": "同意发布",
    "confidentiality_check": {"passed": True, "note": "经审查不涉及国家秘密和工作秘密"},
}
ROLES = {"editor": "editor", "reviewer1": "reviewer", "reviewer2": "reviewer"}


def _check(resp: httpx.Response, *ok: int) -> Any:
    if resp.status_code not in ok:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url.path} → {resp.status_code}: {resp.text[:300]}"
        )
    return resp.json() if resp.content else None


async def _people(demo: Any, site: DemoSite) -> dict[str, dict[str, str]] | None:
    """The site's editor and two reviewers, signed in; created here if the identity step did not."""
    known = {a["username"]: a for a in demo.accounts}
    people: dict[str, dict[str, str]] = {}
    for suffix, role in ROLES.items():
        username = f"{site.code}_{suffix}"
        account = known.get(username)
        if account is None:
            admin = await demo.internal_headers()
            password = "Demo-" + secrets.token_urlsafe(10)
            made = await demo.client.post(
                "/api/identity/v1/users",
                json={"username": username, "display_name": username, "password": password},
                headers=admin,
            )
            if made.status_code == 409:
                demo.console.print(
                    f"[yellow]账号 {username} 已存在但密码未知，跳过 {site.name} 的文章[/yellow]"
                )
                return None
            user = _check(made, 201)
            _check(
                await demo.client.post(
                    f"/api/identity/v1/users/{user['id']}/roles",
                    json={"role": role, "site": site.code},
                    headers=admin,
                ),
                201,
            )
            account = {"username": username, "role": role, "site": site.code, "password": password}
            demo.accounts.append(account)
        people[suffix] = demo.auth(await _sign_in(demo, username, account["password"]))
    return people


async def _sign_in(demo: Any, username: str, password: str) -> str:
    """demo.token_for, waiting out the gateway's sign-in rate limit instead of failing."""
    for _ in range(30):
        try:
            return str(await demo.token_for(username, password))
        except RuntimeError as exc:
            if ": 429 " not in str(exc):
                raise
            await asyncio.sleep(3)
    raise RuntimeError(f"sign-in of {username} kept being rate-limited")


async def _existing_titles(demo: Any, site: str, headers: dict[str, str]) -> set[tuple[int, str]]:
    seen: set[tuple[int, str]] = set()
    page = 1
    while True:
        body = _check(
            await demo.client.get(
                f"{API}/sites/{site}/publications", params={"page": page, "size": 100}, headers=headers
            ),
            200,
        )
        seen.update((p["column_id"], p["title"]) for p in body["items"] if p["status"] != "withdrawn")
        if page * 100 >= body["total"]:
            return seen
        page += 1


async def _publish(
    demo: Any,
    site: DemoSite,
    column: int,
    article: Article,
    people: dict[str, dict[str, str]],
    policy_ids: dict[str, int],
) -> None:
    c = demo.client
    editor = people["editor"]
    body = {
        "metadata": article.metadata(site, policy_ids),
        "body_html": article.body_html(),
        "scope": "platform",
    }
    resource = _check(
        await c.post(f"/sites/{site.code}/api/resources/v1/resources", json=body, headers=editor), 201
    )
    stored = _check(
        await c.post(f"/sites/{site.code}/api/resources/v1/resources/{resource['id']}/store", headers=editor),
        200,
    )
    if article.genre == "zhengce":
        policy_ids[article.title] = resource["id"]
    placed = {
        "column_id": column,
        "resource_id": resource["id"],
        "resource_version": stored["version"],
        "important": article.important,
    }
    pid = _check(await c.post(f"{API}/sites/{site.code}/publications", json=placed, headers=editor), 201)[
        "id"
    ]
    _check(await c.post(f"{API}/publications/{pid}/submit", json={"opinion": "请审核"}, headers=editor), 200)
    _check(await c.post(f"{API}/publications/{pid}/approve", json=CHECK, headers=people["reviewer1"]), 200)
    _check(await c.post(f"{API}/publications/{pid}/approve", json=CHECK, headers=people["reviewer2"]), 200)
    _check(await c.post(f"{API}/publications/{pid}/publish", json={}, headers=editor), 200)


async def _seed_site(
    demo: Any,
    index: int,
    site: DemoSite,
    people: dict[str, dict[str, str]] | None,
    progress: Progress,
    task: Any,
) -> int:
    articles = articles_for(site, index)
    if people is None:
        progress.advance(task, len(articles))
        return 0
    admin = await demo.internal_headers()
    columns = demo.state.get("columns", {}).get(site.code)
    if columns is None:
        listed = _check(await demo.client.get(f"{API}/sites/{site.code}/columns", headers=admin), 200)
        columns = {col["name"]: col["id"] for col in listed["items"]}
    done = await _existing_titles(demo, site.code, admin)
    policy_ids: dict[str, int] = {}
    made = 0
    # Policies go first so that their interpretations can point at them.
    for article in sorted(articles, key=lambda a: a.genre != "zhengce"):
        column = columns[article.column]
        if (column, article.title) in done:
            if article.genre == "zhengce":
                await _remember_policy(demo, site, column, article.title, admin, policy_ids)
        else:
            await _publish(demo, site, column, article, people, policy_ids)
            made += 1
        progress.advance(task)
    return made


async def _remember_policy(
    demo: Any, site: DemoSite, column: int, title: str, headers: dict[str, str], policy_ids: dict[str, int]
) -> None:
    listed = _check(
        await demo.client.get(
            f"{API}/sites/{site.code}/publications",
            params={"column_id": column, "size": 100},
            headers=headers,
        ),
        200,
    )
    for p in listed["items"]:
        if p["title"] == title and p["resource_id"]:
            policy_ids[title] = p["resource_id"]


async def seed(demo: Any) -> None:
    total = sum(len(articles_for(site, i)) for i, site in enumerate(SITES))
    # Sign-ins run one at a time (identity chains an audit entry per sign-in) while sites
    # already signed in publish concurrently, so the two costs overlap instead of adding up.
    loop = asyncio.get_running_loop()
    ready: dict[str, asyncio.Future[dict[str, dict[str, str]] | None]] = {
        s.code: loop.create_future() for s in SITES
    }

    async def sign_in_all() -> None:
        for site in SITES:
            try:
                ready[site.code].set_result(await _people(demo, site))
            except Exception as exc:
                ready[site.code].set_exception(exc)

    with Progress(console=demo.console, transient=True) as progress:
        task = progress.add_task("发布演示文章（入库 → 编辑提交 → 两级审核 → 发布）", total=total)
        limit = asyncio.Semaphore(4)

        async def one(index: int, site: DemoSite) -> int:
            people = await ready[site.code]
            async with limit:
                return await _seed_site(demo, index, site, people, progress, task)

        signing = asyncio.create_task(sign_in_all())
        made = await asyncio.gather(*(one(i, site) for i, site in enumerate(SITES)))
        await signing
    demo.console.print(f"[green]文章[/green] 新发布 {sum(made)} 篇（共 {total} 篇，已有的跳过）")
