"""From a bundle item to the resource library's unified metadata (统一元数据)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from gateway.importer.bundle import SHANGHAI, Item

VALIDITY = {None: "有效", "effective": "有效", "amended": "有效", "repealed": "废止"}
_ORG_CODE = re.compile(r"[^A-Za-z0-9_-]")


def org_code(site: str) -> str:
    """The 发文机关 code that numbers imported items (索引号): the site's code, as the schema allows."""
    return (_ORG_CODE.sub("", site).upper() or "IMPORT")[:32]


def genre_of(item: Item, interprets: list[int]) -> str:
    if item.genre:
        return item.genre
    return "jiedu" if interprets else "qita"


def history(item: Item) -> list[dict[str, Any]]:
    out = []
    for event in item.events:
        day = event.date.astimezone(SHANGHAI).date() if isinstance(event.date, datetime) else event.date
        text = event.text or f"{day.isoformat() if day else ''} {event.kind}".strip()
        out.append({"on": day.isoformat() if day else None, "kind": event.kind, "text": text[:300]})
    if item.validity == "amended" and not any(e.kind in ("修订", "修正") for e in item.events):
        out.append({"on": None, "kind": "修订", "text": "原网站标注为已修订"})
    return out[:50]


def metadata(item: Item, site: str, site_name: str, interprets: list[int]) -> dict[str, Any]:
    published = item.published_at.astimezone(SHANGHAI).date()
    written = item.written_at or published
    topics = [t for t in item.topics if t]
    meta: dict[str, Any] = {
        "title": item.title,
        "issuer_org": {"code": org_code(site), "name": (item.issuer or site_name or site)[:100]},
        "genre": genre_of(item, interprets),
        "written_at": min(written, published).isoformat(),
        "published_at": published.isoformat(),
        "keywords": list(dict.fromkeys([*topics, *item.keywords]))[:20],
        "validity": VALIDITY[item.validity],
        "history": history(item),
        "relations": [{"type": "interpretation-of", "resource_id": rid} for rid in interprets],
    }
    if topics:
        meta["topic"] = topics[0]
    if item.doc_number:
        meta["doc_no"] = item.doc_number
    if item.index_number:
        meta["source"] = f"原索引号 {item.index_number}"[:200]
    return meta
