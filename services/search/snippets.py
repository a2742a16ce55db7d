"""Snippets: a window of a hit's text around the first match, matched terms in <em>.

A hit carries its body's head (`BODY_HEAD_CHARS`); the whole body is read from search.db only
when the head cannot decide, and the snippet made from it is kept per (publication, revision,
terms).
"""

from __future__ import annotations

import html
import re
import threading

from cachetools import LRUCache, cached
from sqlalchemy import select
from sqlmodel import col

from services.kernel.db import Database
from services.search.analysis import ParsedQuery, normalize
from services.search.backends.base import IndexDoc
from services.search.indexing import LIVE_STATUSES
from services.search.models import SearchDocument

SNIPPET_CHARS = 120


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
# view. The hit carries the revision it was projected from, so an edit shows once indexed.
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
    # The hit's own revision keys the kept snippet: no select per page view. A hit without
    # one (an older index) asks search.db.
    revisions = {doc.id: doc.revision for doc in docs if doc.revision is not None}
    unknown = [i for i in missing if i not in revisions]
    if unknown:
        revisions.update(await _revisions(db, unknown))
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
