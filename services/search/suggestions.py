"""Zero-result suggestions: a query that finds something, from synonyms and near words."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.db import Database
from services.search.analysis import Analyzer, ParsedQuery
from services.search.backends.base import SearchBackend
from services.search.models import SearchDocument
from services.search.requests import SearchParams, engine_request

_VOCAB_TTL = 600.0
_VOCAB_TITLES = 20_000


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
        request = engine_request(probe, params)
        request.offset, request.limit = 0, 1
        if (await backend.search(request)).total > 0:
            return candidate
        if len(tried) >= 5:
            break
    return None
