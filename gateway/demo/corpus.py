"""`jiyue demo --corpus FILE`: bring a JSONL(.gz) corpus of legal texts into the demo city.

Each text becomes a resource in the library (genre 法律法规), stored, placed in the portal's
法律法规 column by the portal's editor, approved by its reviewer and published — the same flow
as every article, so load and search work sees realistic volumes. Re-running skips texts whose
title is already in the column. The corpus itself stays where the operator keeps it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from gateway.demo.articles import CHECK, _check, _existing_titles, _sign_in
from gateway.demo.city import PORTAL

API = "/api/content/v1"
COLUMN = "法律法规"
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_ISSUER = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日\s+(.+?)(?:第[一二三四五六七八九十百]+次会议|令|公告|通过|公布|发布)"
)
CONCURRENCY = 4


def read_corpus(path: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        for n, line in enumerate(fh):
            if limit is not None and n >= limit:
                return
            if line.strip():
                yield json.loads(line)


def markdown_to_html(body: str) -> str:
    """Chapters as headings, every other line a paragraph: the corpus's whole Markdown."""
    out = []
    for line in body.splitlines():
        text = line.strip()
        if not text:
            continue
        level = len(text) - len(text.lstrip("#"))
        if 0 < level <= 6:
            out.append(f"<h{min(level + 1, 6)}>{escape(text.lstrip('#').strip())}</h{min(level + 1, 6)}>")
        else:
            out.append(f"<p>{escape(text)}</p>")
    return "\n".join(out) or "<p></p>"


def metadata(doc: dict[str, Any]) -> dict[str, Any]:
    events = doc.get("events") or []
    written = doc.get("version_date")
    if not written:
        for event in events:
            m = _DATE.search(event)
            if m:
                written = f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
                break
    issuer = next((m[1].strip() for e in events if (m := _ISSUER.search(e))), None)
    return {
        "title": doc["title"][:200],
        "issuer_org": {"code": "FLK", "name": (issuer or doc.get("category") or "法律法规库")[:100]},
        "genre": "fagui",
        "written_at": written or "2000-01-01",
        "keywords": [k for k in (doc.get("category"), doc.get("region")) if k],
        "abstract": "；".join(events)[:300],
        "source": f"{doc.get('region', '')} {doc.get('category', '')}".strip(),
    }


async def _column(demo: Any, admin: dict[str, str]) -> int:
    listed = _check(await demo.client.get(f"{API}/sites/{PORTAL.code}/columns", headers=admin), 200)
    for col in listed["items"]:
        if col["name"] == COLUMN:
            return int(col["id"])
    made = await demo.client.post(
        f"{API}/sites/{PORTAL.code}/columns",
        json={
            "name": COLUMN,
            "kind": "list",
            "review_chain": ["reviewer"],
            "description": "法律、行政法规、司法解释、部门规章与地方性法规",
        },
        headers=admin,
    )
    return int(_check(made, 201)["id"])


async def _import_one(demo: Any, doc: dict[str, Any], column: int, people: dict[str, dict[str, str]]) -> None:
    c, site = demo.client, PORTAL.code
    editor = people["editor"]
    body = {"metadata": metadata(doc), "body_html": markdown_to_html(doc["body"]), "scope": "public"}
    resource = _check(
        await c.post(f"/sites/{site}/api/resources/v1/resources", json=body, headers=editor), 201
    )
    stored = _check(
        await c.post(f"/sites/{site}/api/resources/v1/resources/{resource['id']}/store", headers=editor), 200
    )
    placed = {"column_id": column, "resource_id": resource["id"], "resource_version": stored["version"]}
    pid = _check(await c.post(f"{API}/sites/{site}/publications", json=placed, headers=editor), 201)["id"]
    _check(
        await c.post(f"{API}/publications/{pid}/submit", json={"opinion": "法规库导入"}, headers=editor), 200
    )
    _check(await c.post(f"{API}/publications/{pid}/approve", json=CHECK, headers=people["reviewer1"]), 200)
    _check(await c.post(f"{API}/publications/{pid}/publish", json={}, headers=editor), 200)


async def seed(demo: Any) -> None:
    if not demo.corpus:
        return
    path = Path(demo.corpus)
    if not await asyncio.to_thread(path.exists):
        raise FileNotFoundError(f"语料文件不存在: {path}")
    admin = await demo.internal_headers()
    column = await _column(demo, admin)
    known = {a["username"]: a for a in demo.accounts}
    people = {}
    for suffix in ("editor", "reviewer1"):
        account = known.get(f"{PORTAL.code}_{suffix}")
        if account is None:
            raise RuntimeError(f"演示账号 {PORTAL.code}_{suffix} 不存在：请先完成演示数据的账号步骤")
        people[suffix] = demo.auth(await _sign_in(demo, account["username"], account["password"]))
    done = {title for col, title in await _existing_titles(demo, PORTAL.code, admin) if col == column}
    docs = [d for d in read_corpus(str(path), demo.corpus_limit) if d["title"][:200] not in done]
    failures: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)
    columns = [*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=demo.console) as progress:
        task = progress.add_task(f"导入语料到「{COLUMN}」", total=len(docs))

        async def one(doc: dict[str, Any]) -> None:
            async with gate:
                try:
                    await _import_one(demo, doc, column, people)
                except RuntimeError as exc:  # a refused text is reported, the import goes on
                    failures.append(f"{doc['title']}: {exc}")
                progress.advance(task)

        await asyncio.gather(*(one(d) for d in docs))
    demo.console.print(
        f"语料导入完成：新增 {len(docs) - len(failures)} 篇，已存在 {len(done)} 篇，失败 {len(failures)} 篇"
    )
    for line in failures[:20]:
        demo.console.print(f"[red]  {line}[/red]")
