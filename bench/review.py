"""Machine review over the legal-text corpus: throughput, and every text it blocks with why.

.venv/bin/python -m bench.review [--quick] [--corpus PATH]

Also the held-out tampering evaluation (tests/review/tampering.py): brands no lexicon or
detector contains, five defacement styles, precision and recall per style.
"""

from __future__ import annotations

import sys
import time
from html import escape
from pathlib import Path

from bench.common import CORPUS, Row, peak_rss_mb, print_table
from gateway.demo.corpus import read_corpus
from services.resources.review import Reviewer, default_reviewer
from tests.review.tampering import STYLES, Page, samples

TARGET_DOCS_PER_S = 1000.0
TARGET_PR = 0.95


def load_corpus(limit: int | None = None, path: Path = CORPUS) -> list[dict[str, str]]:
    return list(read_corpus(str(path), limit))


def run(quick: bool = False, corpus: Path = CORPUS) -> list[Row]:
    command = ".venv/bin/python -m bench.review" + (" --quick" if quick else "")
    if corpus != CORPUS:
        command += f" --corpus {corpus}"
    if not corpus.exists():
        return [{"name": "review corpus", "n": 0, "note": f"corpus absent at {corpus}", "command": command}]
    docs = load_corpus(500 if quick else None, corpus)
    reviewer = default_reviewer()
    for doc in docs[:50]:  # warm-up: regex compilation, caches
        reviewer.review(text=doc["body"])
    blocked: list[str] = []
    warned = 0
    chars = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for doc in docs:
        review = reviewer.review(text=doc["body"])
        chars += len(doc["body"])
        if review.findings:
            warned += 1
        if review.blocking:
            first = review.blocking[0]
            blocked.append(f"{doc['id']} {doc['title']}: {first.rule} «{first.excerpt}»")
    elapsed = time.perf_counter() - started
    # CPU seconds of this process: what the rate would be on an idle core (the wall figure
    # drops when other work shares the machine's two cores).
    cpu_rate = len(docs) / (time.process_time() - cpu_started)
    rate = len(docs) / elapsed
    note = (
        f"{cpu_rate:.0f} texts per CPU-second; {chars / elapsed / 1e6:.2f} M chars/s; "
        f"{warned} texts with warnings; blocked {len(blocked)}"
    )
    if blocked:
        note += ": " + " | ".join(blocked)
    html_rate, html_blocked = review_as_html(reviewer, docs[: 300 if quick else len(docs)])
    return [
        *held_out_rows(reviewer, docs, 60 if quick else 300, command),
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


def held_out_rows(reviewer: Reviewer, docs: list[dict[str, str]], per_style: int, command: str) -> list[Row]:
    """Precision and recall per tampering style; the clean pages are every corpus text as a
    titled page (what the public sees) and as its body alone."""
    pages = [Page(d["title"], d["body"], d["id"]) for d in docs]
    false_pos = [p.source for p in pages if reviewer.review(html=p.html()).blocking]
    false_pos += [p.source for p in pages if reviewer.review(text=p.body).blocking]
    caught: dict[str, list[bool]] = {style: [] for style in STYLES}
    for sample in samples(pages, per_style):
        caught[sample.style].append(bool(reviewer.review(html=sample.html).blocking))
    rows: list[Row] = []
    for style, flags in caught.items():
        tp = sum(flags)
        precision = tp / (tp + len(false_pos)) if tp else 0.0
        recall = tp / len(flags) if flags else 0.0
        rows.append(
            {
                "name": f"held-out tampering: {style}",
                "n": len(flags),
                "target": f"precision, recall ≥ {TARGET_PR}",
                "met": precision >= TARGET_PR and recall >= TARGET_PR,
                "note": f"precision {precision:.3f}, recall {recall:.3f}; clean pages blocked "
                f"{len(false_pos)} of {2 * len(pages)}"
                + (f": {' '.join(false_pos[:5])}" if false_pos else ""),
                "command": command,
            }
        )
    return rows


def review_as_html(reviewer: Reviewer, docs: list[dict[str, str]]) -> tuple[float, int]:
    pages = [
        "".join(f"<p>{escape(line)}</p>" for line in d["body"].split("\n") if line.strip()) for d in docs
    ]
    started = time.perf_counter()
    blocked = sum(1 for page in pages if reviewer.review(html=page).blocking)
    return len(pages) / (time.perf_counter() - started), blocked


if __name__ == "__main__":
    path = Path(sys.argv[sys.argv.index("--corpus") + 1]) if "--corpus" in sys.argv else CORPUS
    print_table(run(quick="--quick" in sys.argv, corpus=path))
