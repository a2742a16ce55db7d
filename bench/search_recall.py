"""Issue 14 acceptance: fragment recall, decree/文号 MRR, combined queries, latency.

Indexes the legal corpus the way `jiyue demo --corpus` imports it plus the demo city's
articles into tantivy, in-process. Targets: fragments of 4–8 characters from 500 sampled
titles (matching ≤ 10 titles verbatim) find their title in the top 10 for ≥ 95 %; decree
numbers and 文号 in other brackets MRR@10 ≥ 0.95; title words + issuer MRR@10 ≥ 0.9; search
p95 ≤ 30 ms. The index is kept under ~/.cache/jiyue/bench keyed by the analysis code, so a
second run with unchanged analysis reuses it (`--rebuild` forces a fresh one).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import shutil
import sys
import time
from pathlib import Path

from bench.common import CORPUS, Row, latency_row, print_table
from bench.search import TYPICAL_QUERIES
from services.search.analysis import Analyzer
from services.search.backends.base import SearchRequest
from services.search.backends.tantivy_backend import TantivyBackend
from tests.search.data.queryset import load_corpus
from tests.search.data.recall import (
    SEED,
    Labelled,
    combined_queries,
    corpus_docs,
    decree_queries,
    demo_docs,
    doc_no_queries,
    fragment_queries,
    reciprocal_rank,
)

ROOT = Path(__file__).resolve().parents[1]
CODE = [
    "services/search/analysis.py",
    "services/search/identifiers.py",
    "services/search/backends/base.py",
    "services/search/backends/tantivy_backend.py",
    "gateway/demo/corpus.py",
]
CACHE = Path.home() / ".cache" / "jiyue" / "bench"
TARGETS = {"fragment": 0.95, "decree": 0.95, "doc_no": 0.95, "combined": 0.9}


def _index_key(n: int) -> str:
    digest = hashlib.sha256(str(n).encode())
    for name in CODE:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:12]


async def _search(backend: TantivyBackend, analyzer: Analyzer, q: str) -> list[int]:
    result = await backend.search(SearchRequest(query=analyzer.parse_query(q), limit=10))
    return [h.doc.id for h in result.hits]


async def _run(quick: bool, rebuild: bool) -> list[Row]:
    command = "python -m bench.search_recall" + (" --quick" if quick else "")
    if not CORPUS.exists():
        return [{"name": "search recall", "note": f"skipped: corpus not found at {CORPUS}"}]
    rows_in = load_corpus(CORPUS, limit=300 if quick else None)
    docs = list(corpus_docs(rows_in))
    docs += demo_docs(len(docs) + 1)
    folder = CACHE / f"search-recall-{_index_key(len(docs))}"
    analyzer = Analyzer()
    analyzer.cut("预热")
    rows: list[Row] = []
    if rebuild or not (folder / "COMPLETE").exists():
        shutil.rmtree(folder, ignore_errors=True)
        backend = TantivyBackend(folder, analyzer)
        await backend.open()
        started = time.perf_counter()
        for start in range(0, len(docs), 500):
            await backend.upsert(docs[start : start + 500])
        await backend.commit()
        seconds = time.perf_counter() - started
        (folder / "COMPLETE").write_text(str(len(docs)))
        rows.append(
            {
                "name": f"index corpus + demo ({len(docs)} texts, tantivy, words + bigrams)",
                "n": len(docs),
                "throughput": round(len(docs) / seconds, 1),
                "unit": "docs/s",
                "note": f"{seconds:.1f} s total",
                "command": command,
            }
        )
    else:
        backend = TantivyBackend(folder, analyzer)
        await backend.open()
    rng = random.Random(SEED)
    sets: dict[str, list[Labelled]] = {
        "fragment": fragment_queries(docs, 100 if quick else 500, rng),
        "decree": decree_queries(rows_in, 50 if quick else 200, rng),
        "doc_no": doc_no_queries(docs, 100, rng),
        "combined": combined_queries(rows_in, analyzer, 50 if quick else 200, rng),
    }
    for kind, queries in sets.items():
        if kind == "fragment":
            found = [q.target in (await _search(backend, analyzer, q.q)) for q in queries]
            value, label = sum(found) / max(len(found), 1), "in top 10"
            misses = [q.q for q, ok in zip(queries, found, strict=True) if not ok][:5]
        else:
            ranks = [reciprocal_rank(await _search(backend, analyzer, q.q), q.relevant) for q in queries]
            value, label = sum(ranks) / max(len(ranks), 1), "MRR@10"
            misses = [q.q for q, r in zip(queries, ranks, strict=True) if r < 1][:5]
        rows.append(
            {
                "name": f"{kind} queries (tantivy)",
                "n": len(queries),
                "note": f"{label} {value:.3f}; e.g. below 1: {'、'.join(misses) or '—'}",
                "target": f"≥ {TARGETS[kind]}",
                "met": value >= TARGETS[kind],
                "command": command,
            }
        )
    mixed = TYPICAL_QUERIES + [q.q for qs in sets.values() for q in qs[:40]]
    for q in mixed:  # warm-up
        await _search(backend, analyzer, q)
    samples = []
    for _ in range(3 if quick else 10):
        for q in mixed:
            started = time.perf_counter()
            await backend.search(SearchRequest(query=analyzer.parse_query(q), limit=10))
            samples.append(time.perf_counter() - started)
    row = latency_row(f"search corpus, typical + fragment + number queries ({len(docs)} docs)", samples)
    row.update(target="p95 ≤ 30 ms", met=row["p95_ms"] <= 30, command=command)
    rows.append(row)
    await backend.close()
    return rows


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_run(quick, rebuild=False))


if __name__ == "__main__":
    print_table(asyncio.run(_run("--quick" in sys.argv, "--rebuild" in sys.argv)))
