"""Answering a search: parse, ask the engine, build snippets, suggest on zero results, log."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache

from services.kernel.db import Database
from services.search.analysis import Analyzer, ParsedQuery
from services.search.backends.base import IndexDoc, SearchBackend
from services.search.requests import SearchParams, engine_request
from services.search.snippets import (
    head_snippet,
    highlight_terms,
    make_snippet,
    snippet_text,
    snippets,
    stored_bodies,
)
from services.search.suggestions import Vocabulary, suggest_correction

__all__ = [
    "SearchOutcome",
    "SearchParams",
    "Vocabulary",
    "head_snippet",
    "item_from_doc",
    "make_snippet",
    "run_search",
    "run_suggest",
    "stored_bodies",
]


@dataclass
class SearchOutcome:
    total: int
    items: list[dict[str, Any]]
    suggestion: str | None = None
    took_ms: float = 0.0
    query_words: list[str] = field(default_factory=list)


def item_from_doc(
    doc: IndexDoc, terms: list[str], platform: bool, snippet: str | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": doc.id,
        "resource_id": doc.resource_id,
        "title": doc.title,
        "site": doc.site,
        "site_name": doc.site_name,
        "column": doc.column_name,
        "column_id": doc.column_id,
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "archived": doc.archived,
        "archived_at": doc.archived_at.isoformat() if doc.archived_at else None,
        "doc_no": doc.doc_no,
        "index_no": doc.index_no,
        "org": doc.org,
        "genre": doc.genre,
        "topic": doc.topic,
        "kind": doc.kind,
        "status": doc.item_status,
        "snippet": make_snippet(snippet_text(doc), terms) if snippet is None else snippet,
        "url": doc.url,
    }
    if platform:
        item["sites"] = doc.placements or [
            {"site": doc.site, "site_name": doc.site_name, "publication_id": doc.id, "url": doc.url}
        ]
    return item


_analysed: LRUCache[tuple[int, str], tuple[ParsedQuery, list[str]]] = LRUCache(maxsize=2048)
_analysed_lock = threading.Lock()


def analysed(analyzer: Analyzer, q: str) -> tuple[ParsedQuery, list[str]]:
    """A query's parse and highlight terms, kept for the popular queries (jieba is the cost).

    Callers must not change what they get: the same objects answer the next such query.
    """
    key = (id(analyzer), q)
    with _analysed_lock:
        found = _analysed.get(key)
    if found is None:
        parsed = analyzer.parse_query(q)
        found = (parsed, highlight_terms(parsed))
        with _analysed_lock:
            _analysed[key] = found
    return found


async def run_search(
    backend: SearchBackend, db: Database, analyzer: Analyzer, vocabulary: Vocabulary, params: SearchParams
) -> SearchOutcome:
    started = time.perf_counter()
    parsed, terms = analysed(analyzer, params.q)
    if parsed.empty:
        return SearchOutcome(total=0, items=[], took_ms=(time.perf_counter() - started) * 1000)
    result = await backend.search(engine_request(parsed, params))
    docs = [hit.doc for hit in result.hits]
    shown = await snippets(db, docs, terms)
    items = [
        item_from_doc(doc, terms, params.platform, snippet) for doc, snippet in zip(docs, shown, strict=True)
    ]
    suggestion = None
    if result.total == 0 and parsed.words:
        suggestion = await suggest_correction(backend, analyzer, vocabulary, parsed, params)
    return SearchOutcome(
        total=result.total,
        items=items,
        suggestion=suggestion,
        took_ms=(time.perf_counter() - started) * 1000,
        query_words=[c.word for c in parsed.words],
    )


async def run_suggest(
    backend: SearchBackend, analyzer: Analyzer, text: str, site: str | None, limit: int
) -> list[str]:
    text = text.strip()
    if not text:
        return []
    tokens = analyzer.cut(text)[:8]
    return await backend.suggest(text[:100], tokens, site, limit)
