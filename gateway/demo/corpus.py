"""`jiyue demo --corpus FILE`: bring a JSONL(.gz) corpus of legal texts into the demo city.

Each text becomes a resource in the library (genre 法律法规), stored, placed in the portal's
法律法规 column by the portal's editor, approved by its reviewer and published — the same flow
as every article, so load and search work sees realistic volumes. Re-running skips texts whose
title is already in the column. The corpus itself stays where the operator keeps it.

What the material carries is kept: the decree number of the 公布 event is the text's 文号, its
date the publication date, every dated event the resource's history, and a 废止/失效 event its
validity. The import outlives any access token, so each account signs in again before its token
expires (and once more on a 401), and every text that could not be imported is listed with why.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from gateway.demo.articles import CHECK, _check, _existing_titles, _sign_in
from gateway.demo.city import PORTAL
from services.kernel.clock import epoch
from services.search.identifiers import DECREE_IN_TEXT, DECREE_SUFFIXED

API = "/api/content/v1"
COLUMN = "法律法规"
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_ISSUER = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日\s+(.+?)(?:第[一二三四五六七八九十百]+次会议|令|公告|通过|公布|发布)"
)
CONCURRENCY = 4
# sign in again this long before a token's expiry
REFRESH_MARGIN = 120.0
_KINDS = ("废止", "失效", "修订", "修正", "施行", "实施", "公布", "发布", "批准", "通过")


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


def _iso(m: re.Match[str]) -> str:
    return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"


def history(events: list[str]) -> list[dict[str, Any]]:
    """Each event as {on, kind, text}; the kind is the act it ends with (修订 before 废止:
    《…废止和修改…的决定》第一次修订 is a revision)."""
    out = []
    for event in events:
        m = _DATE.search(event)
        tail = event[m.end() :].strip() if m else event.strip()
        kind = next((k for k in _KINDS if tail.endswith(k) or tail.endswith(k + "）")), None)
        kind = kind or next((k for k in _KINDS if k in tail), "其他")
        out.append({"on": _iso(m) if m else None, "kind": kind, "text": event.strip()[:300]})
    return out


def decree_no(event: str) -> str | None:
    m = DECREE_IN_TEXT.search(event) or DECREE_SUFFIXED.search(event)
    return m.group(0)[:64] if m else None


def metadata(doc: dict[str, Any]) -> dict[str, Any]:
    events = doc.get("events") or []
    steps = history(events)
    written = doc.get("version_date") or next((s["on"] for s in steps if s["on"]), None)
    promulgated = next((s for s in steps if s["kind"] in ("公布", "发布")), None)
    issuer = next((m[1].strip() for e in events if (m := _ISSUER.search(e))), None)
    validity = "有效"
    if steps and steps[-1]["kind"] in ("废止", "失效"):
        validity = steps[-1]["kind"]
    meta: dict[str, Any] = {
        "title": doc["title"][:200],
        "issuer_org": {"code": "FLK", "name": (issuer or doc.get("category") or "法律法规库")[:100]},
        "genre": "fagui",
        "written_at": written or "2000-01-01",
        "keywords": [k for k in (doc.get("category"), doc.get("region")) if k],
        "abstract": "；".join(events)[:2000],
        "source": f"{doc.get('region', '')} {doc.get('category', '')}".strip(),
        "validity": validity,
        "history": steps[:50],
    }
    if promulgated is not None:
        if promulgated["on"]:
            meta["published_at"] = promulgated["on"]
            # The version date of a revised text follows its promulgation; the library refuses a
            # 成文日期 after the 发布日期, which lost 394 of the 3,471 texts.
            meta["written_at"] = min(meta["written_at"], promulgated["on"])
        number = decree_no(promulgated["text"])
        if number:
            meta["doc_no"] = number
    return meta


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


def token_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, read without verifying: only to know when to sign in again."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class Account:
    """A demo account's bearer headers, signed in again before the token expires."""

    def __init__(self, demo: Any, username: str, password: str) -> None:
        self.demo = demo
        self.username = username
        self.password = password
        self.token = ""
        self.expires = 0.0
        self._lock = asyncio.Lock()

    async def headers(self, *, renew: bool = False) -> dict[str, str]:
        async with self._lock:
            if renew or epoch() > self.expires - REFRESH_MARGIN:
                self.demo.tokens.pop(self.username, None)
                self.token = await _sign_in(self.demo, self.username, self.password)
                self.expires = token_expiry(self.token) or epoch() + REFRESH_MARGIN
            return dict(self.demo.auth(self.token))

    async def call(self, method: str, url: str, *ok: int, json: Any = None) -> Any:
        """One request as this account; a 401 (a token revoked or expired early) signs in
        again and repeats it once."""
        response: httpx.Response | None = None
        for renew in (False, True):
            headers = await self.headers(renew=renew)
            response = await self.demo.client.request(method, url, json=json, headers=headers)
            if response.status_code != 401:
                break
        assert response is not None
        return _check(response, *ok)


async def _import_one(demo: Any, doc: dict[str, Any], column: int, people: dict[str, Account]) -> None:
    site = PORTAL.code
    editor, reviewer = people["editor"], people["reviewer1"]
    body = {"metadata": metadata(doc), "body_html": markdown_to_html(doc["body"]), "scope": "public"}
    resources = f"/sites/{site}/api/resources/v1/resources"
    resource = await editor.call("POST", resources, 201, json=body)
    stored = await editor.call("POST", f"{resources}/{resource['id']}/store", 200)
    placed = {"column_id": column, "resource_id": resource["id"], "resource_version": stored["version"]}
    pid = (await editor.call("POST", f"{API}/sites/{site}/publications", 201, json=placed))["id"]
    await editor.call("POST", f"{API}/publications/{pid}/submit", 200, json={"opinion": "法规库导入"})
    await reviewer.call("POST", f"{API}/publications/{pid}/approve", 200, json=CHECK)
    await editor.call("POST", f"{API}/publications/{pid}/publish", 200, json={})


async def seed(demo: Any) -> None:
    if not demo.corpus:
        return
    path = Path(demo.corpus)
    if not await asyncio.to_thread(path.exists):
        raise FileNotFoundError(f"语料文件不存在: {path}")
    admin = await demo.internal_headers()
    column = await _column(demo, admin)
    known = {a["username"]: a for a in demo.accounts}
    people: dict[str, Account] = {}
    for suffix in ("editor", "reviewer1"):
        account = known.get(f"{PORTAL.code}_{suffix}")
        if account is None:
            raise RuntimeError(f"演示账号 {PORTAL.code}_{suffix} 不存在：请先完成演示数据的账号步骤")
        people[suffix] = Account(demo, account["username"], account["password"])
        await people[suffix].headers()
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
                except (RuntimeError, httpx.HTTPError) as exc:  # reported; the import goes on
                    failures.append(f"{doc.get('id', '')} {doc['title']}: {exc}")
                progress.advance(task)

        await asyncio.gather(*(one(d) for d in docs))
    demo.console.print(
        f"语料导入完成：新增 {len(docs) - len(failures)} 篇，已存在 {len(done)} 篇，失败 {len(failures)} 篇"
    )
    for line in failures:
        demo.console.print(f"  未导入 {line}", style="red", markup=False)
    demo.state["corpus_failures"] = failures
