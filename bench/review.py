"""Machine review over the legal-text corpus: throughput, and every text it blocks with why.

.venv/bin/python -m bench.review [--quick]
"""

from __future__ import annotations

import sys
import time
from html import escape

from bench.common import CORPUS, Row, peak_rss_mb, print_table
from gateway.demo.corpus import read_corpus
from services.resources.review import Reviewer, default_reviewer

TARGET_DOCS_PER_S = 200.0


def load_corpus(limit: int | None = None) -> list[dict[str, str]]:
    return list(read_corpus(str(CORPUS), limit))


def run(quick: bool = False) -> list[Row]:
    command = ".venv/bin/python -m bench.review" + (" --quick" if quick else "")
    if not CORPUS.exists():
        return [{"name": "review corpus", "n": 0, "note": f"corpus absent at {CORPUS}", "command": command}]
    docs = load_corpus(500 if quick else None)
    reviewer = default_reviewer()
    for doc in docs[:50]:  # warm-up: regex compilation, caches
        reviewer.review(text=doc["body"])
    blocked: list[str] = []
    warned = 0
    chars = 0
    started = time.perf_counter()
    for doc in docs:
        review = reviewer.review(text=doc["body"])
        chars += len(doc["body"])
        if review.findings:
            warned += 1
        if review.blocking:
            first = review.blocking[0]
            blocked.append(f"{doc['id']} {doc['title']}: {first.rule} «{first.excerpt}»")
    elapsed = time.perf_counter() - started
    rate = len(docs) / elapsed
    note = f"{chars / elapsed / 1e6:.2f} M chars/s; {warned} texts with warnings; blocked {len(blocked)}"
    if blocked:
        note += ": " + " | ".join(blocked)
    html_rate, html_blocked = review_as_html(reviewer, docs[: 300 if quick else len(docs)])
    return [
        {
            "name": "review corpus texts",
            "n": len(docs),
            "median_ms": round(elapsed / len(docs) * 1000, 3),
            "throughput": round(rate, 1),
            "unit": "docs/s",
            "peak_rss_mb": peak_rss_mb(),
            "target": f"≥ {TARGET_DOCS_PER_S:.0f} docs/s, 0 blocked",
            "met": rate >= TARGET_DOCS_PER_S and not blocked,
            "note": note,
            "command": command,
        },
        {
            "name": "review corpus as HTML",
            "n": min(len(docs), 300) if quick else len(docs),
            "throughput": round(html_rate, 1),
            "unit": "docs/s",
            "peak_rss_mb": peak_rss_mb(),
            "note": f"each text as <p> paragraphs through the markup reader (the 入库 path); blocked {html_blocked}",
            "command": command,
        },
    ]


def review_as_html(reviewer: Reviewer, docs: list[dict[str, str]]) -> tuple[float, int]:
    pages = [
        "".join(f"<p>{escape(line)}</p>" for line in d["body"].split("\n") if line.strip()) for d in docs
    ]
    started = time.perf_counter()
    blocked = sum(1 for page in pages if reviewer.review(html=page).blocking)
    return len(pages) / (time.perf_counter() - started), blocked


if __name__ == "__main__":
    print_table(run(quick="--quick" in sys.argv))
