"""The labelled query set, generated from the legal-text corpus at run time (never copied).

Known-item queries: a run of title words, a distinctive run of body words, and the 文号 typed
with ASCII brackets; each is judged relevant for the documents that contain it. Topical
queries: a subject term, judged relevant for every document whose title carries the term.
Selection is seeded, so the set is the same on every run for the same corpus.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.demo.corpus import read_corpus
from services.kernel.chinese import find_doc_nos
from services.search.analysis import Analyzer, is_word, normalize
from services.search.backends.base import IndexDoc

SEED = 20261127
TOPICAL_TERMS = [
    "消防",
    "食品安全",
    "物业管理",
    "道路交通",
    "个人所得税",
    "环境保护",
    "著作权",
    "劳动合同",
    "未成年人",
    "医疗",
    "养老",
    "公积金",
    "社会保险",
    "土地",
    "水资源",
    "档案",
    "旅游",
    "统计",
    "药品",
    "税收征收",
]


@dataclass
class LabelledQuery:
    kind: str  # title | body | doc_no | topical
    q: str
    relevant: set[int] = field(default_factory=set)


def load_corpus(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    return list(read_corpus(str(path), limit))


def doc_no_of(row: dict[str, Any]) -> str | None:
    found = find_doc_nos(row["body"][:300])
    return found[0] if found else None


def index_docs(rows: list[dict[str, Any]]) -> Iterator[IndexDoc]:
    for n, row in enumerate(rows, start=1):
        try:
            published = datetime.fromisoformat(row.get("version_date") or "").replace(tzinfo=UTC)
        except ValueError:
            published = None
        yield IndexDoc(
            id=n,
            resource_id=n,
            site="portal",
            sites=["portal"],
            title=row["title"],
            body=row["body"],
            url=f"/api/content/v1/items/{n}",
            doc_no=doc_no_of(row),
            genre=row.get("category") or None,
            topic=row.get("region") or None,
            published_at=published,
        )


def _plain(text: str) -> str:
    return "".join(ch for ch in normalize(text) if is_word(ch))


def _span(tokens: list[str], rng: random.Random, lo: int, hi: int) -> str:
    size = min(len(tokens), rng.randint(lo, hi))
    start = rng.randint(0, len(tokens) - size)
    return "".join(tokens[start : start + size])


def build_queryset(rows: list[dict[str, Any]], analyzer: Analyzer, per_kind: int = 60) -> list[LabelledQuery]:
    rng = random.Random(SEED)
    ids = list(range(1, len(rows) + 1))
    # Judged on text without punctuation or spaces: people type 实施妇女权益保障法, not 《…》.
    titles = {i: _plain(rows[i - 1]["title"]) for i in ids}
    bodies = {i: _plain(rows[i - 1]["body"]) for i in ids}
    queries: list[LabelledQuery] = []

    for i in rng.sample(ids, min(per_kind, len(ids))):
        tokens = analyzer.cut(rows[i - 1]["title"])
        if len(tokens) < 3:
            continue
        q = _span(tokens, rng, 3, 6)
        queries.append(LabelledQuery("title", q, {j for j in ids if q in titles[j]}))

    for i in rng.sample(ids, min(per_kind * 2, len(ids))):
        text = rows[i - 1]["body"]
        if len(text) < 400:
            continue
        start = rng.randint(100, len(text) - 200)
        # the window's first and last words may be cut mid-word; people type whole words
        tokens = analyzer.cut(text[start : start + 120].split("\n")[0])[1:-1]
        if len(tokens) < 8:
            continue
        q = _span(tokens, rng, 5, 8)
        relevant = {j for j in ids if q in bodies[j]}
        if len(q) >= 8 and len(relevant) <= 3:
            queries.append(LabelledQuery("body", q, relevant))
        if sum(1 for x in queries if x.kind == "body") >= per_kind:
            break

    numbered = [(i, doc_no_of(rows[i - 1])) for i in ids]
    by_no: dict[str, set[int]] = {}
    for i, number in numbered:
        if number:
            by_no.setdefault(number, set()).add(i)
    for number, relevant in sorted(by_no.items())[:per_kind]:
        typed = number.replace("〔", "[").replace("〕", "]")
        queries.append(LabelledQuery("doc_no", typed, relevant))

    for term in TOPICAL_TERMS:
        relevant = {j for j in ids if term in titles[j]}
        if relevant:
            queries.append(LabelledQuery("topical", term, relevant))
    return queries


def score(ranked: list[int], relevant: set[int], k: int = 10) -> tuple[float, float]:
    """Reciprocal rank of the first relevant hit in the top k, and recall@k (capped at k)."""
    top = ranked[:k]
    rr = next((1.0 / (n + 1) for n, doc_id in enumerate(top) if doc_id in relevant), 0.0)
    recall = len(set(top) & relevant) / min(len(relevant), k) if relevant else 0.0
    return rr, recall
