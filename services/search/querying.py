"""Answering a search: parse, ask the engine, build snippets, suggest on zero results, log."""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cachetools import LRUCache, cached
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.db import Database
from services.search.analysis import Analyzer, ParsedQuery, normalize
from services.search.backends.base import (
    ArchivedMode,
    DocKind,
    IndexDoc,
    SearchBackend,
    SearchRequest,
    SortMode,
)
from services.search.indexing import LIVE_STATUSES
from services.search.models import SearchDocument

SNIPPET_CHARS = 120
_VOCAB_TTL = 600.0
_VOCAB_TITLES = 20_000


@dataclass
class SearchParams:
    q: str
    site: str | None
    platform: bool
    column_id: int | None = None
    genre: str | None = None
    topic: str | None = None
    org: str | None = None
    kind: DocKind | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    archived: ArchivedMode = "exclude"
    sort: SortMode = "relevance"
    page: int = 1
    size: int = 20


@dataclass
class SearchOutcome:
    total: int
    items: list[dict[str, Any]]
    suggestion: str | None = None
    took_ms: float = 0.0
    query_words: list[str] = field(default_factory=list)


def highlight_terms(parsed: ParsedQuery) -> list[str]:
    terms: set[str] = set()
    for clause in parsed.words:
        for alternative in clause.alternatives:
            terms.add("".join(alternative))
            terms.update(alternative)
    if parsed.fragments:
        # the typed part itself: a fragment may match across word boundaries
        terms.update(normalize(part) for part in parsed.text.split())
    if parsed.doc_no:
        terms.add(parsed.doc_no.lower())
    return sorted((t for t in terms if t), key=len, reverse=True)


def _first_match(text: str, terms: list[str]) -> int:
    for term in terms:
        pos = text.find(term)
        if pos >= 0:
            return pos
    return -1


def make_snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """A window of the text around the first match of the longest term, matches in <em>.

    Only the window is flattened and scanned: a law's body runs to 100,000 characters and a
    page of hits to twenty of them, so lower-casing whole bodies was the cost of a search.
    """
    pos = _first_match(text, terms)
    if pos < 0 and any("a" <= ch <= "z" for t in terms for ch in t):
        pos = _first_match(text.lower(), terms)  # Latin terms are matched case-free
    return _window(text, terms, pos, width, cut=False)


def head_snippet(head: str, terms: list[str], width: int = SNIPPET_CHARS) -> str | None:
    """`make_snippet` of the whole body, from its head alone; None when only the body can say.

    The head decides when the first term that matches at all matches in it and the window
    fits: a term missing from the head may still occur further in, before a shorter term.
    """
    pos = head.find(terms[0]) if terms else -1
    if terms and pos < 0:
        return None
    start = max(0, pos - width // 4) if pos >= 0 else 0
    if start + width * 3 > len(head):
        return None
    return _window(head, terms, pos, width, cut=True)


def _window(text: str, terms: list[str], pos: int, width: int, *, cut: bool) -> str:
    start = max(0, pos - width // 4) if pos >= 0 else 0
    # whitespace runs count as one character, as the reader sees them
    flat = re.sub(r"\s+", " ", text[start : start + width * 3]).strip()
    window = flat[:width]
    if not terms:
        return html.escape(window)
    more = cut or len(flat) > width or bool(text[start + width * 3 :].strip())
    out: list[str] = []
    last = 0
    for m in _highlighter(tuple(terms)).finditer(window):
        out.append(html.escape(window[last : m.start()]))
        out.append(f"<em>{html.escape(m.group(0))}</em>")
        last = m.end()
    out.append(html.escape(window[last:]))
    prefix = "…" if text[:start].strip() else ""
    suffix = "…" if more else ""
    return prefix + "".join(out) + suffix


@cached(LRUCache(maxsize=4096))
def _highlighter(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)


def snippet_text(doc: IndexDoc) -> str:
    return doc.summary if doc.summary and not doc.body else doc.body


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


async def stored_bodies(db: Database, ids: list[int], known: dict[int, int] | None = None) -> dict[int, str]:
    """Whole body texts of live publications, from search.db's compressed payloads.

    The engines keep only a head of a long body: storing it whole there too doubled the index.
    `known`, when given, receives each live publication's revision."""
    async with db.session() as session:
        rows = await session.execute(
            select(
                col(SearchDocument.publication_id), col(SearchDocument.revision), col(SearchDocument.payload)
            ).where(
                col(SearchDocument.publication_id).in_(ids),
                col(SearchDocument.status).in_(LIVE_STATUSES),
            )
        )
        out = {}
        for pub_id, revision, payload in rows:
            out[int(pub_id)] = str(payload.get("body_text") or "")
            if known is not None:
                known[int(pub_id)] = int(revision)
        return out


async def _revisions(db: Database, ids: list[int]) -> dict[int, int]:
    async with db.session() as session:
        rows = await session.execute(
            select(col(SearchDocument.publication_id), col(SearchDocument.revision)).where(
                col(SearchDocument.publication_id).in_(ids),
                col(SearchDocument.status).in_(LIVE_STATUSES),
            )
        )
        return {int(pub_id): int(revision) for pub_id, revision in rows}


# Snippets the head could not decide, by (publication, its revision, highlight terms): the
# whole body of a long law is read and decompressed once per query instead of once per page
# view. The revision is read each time (a small indexed select), so an edit shows at once.
_body_snippets: LRUCache[tuple[int, int, tuple[str, ...]], str] = LRUCache(maxsize=20_000)
_body_snippets_lock = threading.Lock()


async def snippets(db: Database, docs: list[IndexDoc], terms: list[str]) -> list[str]:
    """One snippet per hit; whole bodies are read only where the head cannot tell."""
    out: list[str | None] = [
        head_snippet(doc.body, terms) if doc.body_cut and doc.body else make_snippet(snippet_text(doc), terms)
        for doc in docs
    ]
    missing = [doc.id for doc, snippet in zip(docs, out, strict=True) if snippet is None]
    if not missing:
        return [s for s in out if s is not None]
    wanted = tuple(terms)
    revisions = await _revisions(db, missing)
    with _body_snippets_lock:
        cached = {i: _body_snippets.get((i, revisions[i], wanted)) for i in missing if i in revisions}
    unread = [i for i in missing if cached.get(i) is None]
    read_revisions: dict[int, int] = {}
    bodies = await stored_bodies(db, unread, read_revisions) if unread else {}
    result: list[str] = []
    for doc, snippet in zip(docs, out, strict=True):
        if snippet is None:
            snippet = cached.get(doc.id)
            if snippet is None:
                snippet = make_snippet(bodies.get(doc.id, doc.body), terms)
                if doc.id in read_revisions:
                    with _body_snippets_lock:
                        _body_snippets[(doc.id, read_revisions[doc.id], wanted)] = snippet
        result.append(snippet)
    return result


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


def _request(parsed: ParsedQuery, params: SearchParams) -> SearchRequest:
    return SearchRequest(
        query=parsed,
        site=params.site,
        platform=params.platform,
        column_id=params.column_id,
        genre=params.genre,
        topic=params.topic,
        org=params.org,
        kind=params.kind,
        date_from=params.date_from,
        date_to=params.date_to,
        archived=params.archived,
        sort=params.sort,
        offset=(params.page - 1) * params.size,
        limit=params.size,
    )


async def run_search(
    backend: SearchBackend, db: Database, analyzer: Analyzer, vocabulary: Vocabulary, params: SearchParams
) -> SearchOutcome:
    started = time.perf_counter()
    parsed, terms = analysed(analyzer, params.q)
    if parsed.empty:
        return SearchOutcome(total=0, items=[], took_ms=(time.perf_counter() - started) * 1000)
    result = await backend.search(_request(parsed, params))
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


# -- zero-result suggestions -----------------------------------------------------------


def _within_one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1 :] == short:
            return True
    return False


class Vocabulary:
    """Words a misspelt query word may have meant: the dictionaries plus words of titles."""

    def __init__(self, analyzer: Analyzer, db: Database) -> None:
        self.analyzer = analyzer
        self.db = db
        self._words: dict[str, int] = {}
        self._loaded_at = 0.0

    async def words(self) -> dict[str, int]:
        if self._words and time.monotonic() - self._loaded_at < _VOCAB_TTL:
            return self._words
        counts: dict[str, int] = {w: 1000 for w in self.analyzer.vocabulary() if len(w) >= 2}
        async with self.db.session() as session:
            titles = await _recent_titles(session)
        for title in titles:
            for word in self.analyzer.cut(title):
                if len(word) >= 2:
                    counts[word] = counts.get(word, 0) + 1
        self._words = counts
        self._loaded_at = time.monotonic()
        return counts


async def _recent_titles(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        select(col(SearchDocument.payload))
        .where(col(SearchDocument.status) == "published")
        .order_by(col(SearchDocument.publication_id).desc())
        .limit(_VOCAB_TITLES)
    )
    return [str(p.get("title") or "") for p in rows.scalars()]


async def suggest_correction(
    backend: SearchBackend,
    analyzer: Analyzer,
    vocabulary: Vocabulary,
    parsed: ParsedQuery,
    params: SearchParams,
) -> str | None:
    """A query that finds something: a word swapped for a synonym or a near dictionary word."""
    words = await vocabulary.words()
    if not words:
        return None
    query_words = [c.word for c in parsed.words]
    candidates: list[str] = []
    # A bigram split of a misspelt word (营商坏境 → 营商/坏/境) is retried as one word.
    joined = "".join(query_words)
    for i, word in enumerate([joined, *query_words]):
        if len(word) < 2 or (word in words and i > 0):
            continue
        near = sorted(
            (w for w in words if _within_one_edit(word, w)),
            key=lambda w: (-words[w], w),
        )[:3]
        for replacement in near:
            candidates.append(replacement if i == 0 else joined.replace(word, replacement, 1))
        for synonym in analyzer.synonyms_of(word):
            candidates.append(joined.replace(word, synonym, 1))
    tried: set[str] = set()
    for candidate in candidates:
        if candidate in tried or candidate == joined:
            continue
        tried.add(candidate)
        probe = analyzer.parse_query(candidate)
        request = _request(probe, params)
        request.offset, request.limit = 0, 1
        if (await backend.search(request)).total > 0:
            return candidate
        if len(tried) >= 5:
            break
    return None
