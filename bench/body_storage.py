"""What compressed bodies cost on the read path: the same 1,000 corpus texts, stored as content
stored them before issue 13 (HTML and text as plain strings) and as it stores them now
(kernel's CompressedText), read back whole through SQLAlchemy on SQLite.

`python -m bench body_storage [--quick]` prints, for each form, the file size and the time to
read every publication's body, and the ratio between them; then what deriving a stored
resource version's text (resources no longer keeps it) costs per version read.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from bench.common import CORPUS, Row
from gateway.demo.corpus import markdown_to_html
from services.kernel.chinese import nfc
from services.kernel.columns import CompressedText
from services.kernel.db import Database
from services.resources.review.markup import plain_text

CMD = "python -m bench body_storage"
CORPUS = Path(os.environ.get("JIYUE_BENCH_CORPUS") or CORPUS)
ROUNDS = 5


def corpus_bodies(limit: int) -> list[tuple[str, str]]:
    bodies: list[tuple[str, str]] = []
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for line in fh:
            if len(bodies) >= limit:
                break
            html = markdown_to_html(json.loads(line).get("body", ""))
            bodies.append((html, nfc(plain_text(html))))
    return bodies


async def _store_and_read(path: Path, kind: type, bodies: list[tuple[str, str]]) -> list[float]:
    metadata = MetaData()
    table = Table(
        "publication", metadata, Column("id", Integer, primary_key=True),
        Column("body_html", kind, nullable=False), Column("body_text", kind, nullable=False),
    )  # fmt: skip
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.session() as s:
        await s.execute(insert(table), [{"body_html": h, "body_text": t} for h, t in bodies])
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        async with db.session() as s:
            rows = (await s.execute(select(table.c.body_html, table.c.body_text))).all()
        times.append(time.perf_counter() - started)
        assert len(rows) == len(bodies) and rows[-1].body_text == bodies[-1][1]
    await db.dispose()
    return times


def run(quick: bool = False) -> list[Row]:
    if not CORPUS.exists():
        return [{"name": "body storage", "note": f"skipped: no corpus at {CORPUS}", "command": CMD}]
    n = 200 if quick else 1000
    bodies = corpus_bodies(n)
    raw = sum(len(h.encode()) + len(t.encode()) for h, t in bodies)
    rows: list[Row] = []
    results = {}
    with tempfile.TemporaryDirectory(prefix="jiyue-body-storage-") as tmp:
        for kind, name in ((String, "plain"), (CompressedText, "compressed")):
            path = Path(tmp) / f"{name}.db"
            times = asyncio.run(_store_and_read(path, kind, bodies))
            results[name] = (path.stat().st_size, times)
    for name, (size, times) in results.items():
        best = min(times)
        rows.append(
            {"name": f"read {n} publications' html + text ({name})", "n": ROUNDS,
             "median_ms": round(sorted(times)[len(times) // 2] * 1000, 1),
             "note": f"best {best * 1000:.1f} ms; file {size / 1e6:.1f} MB for {raw / 1e6:.1f} MB of UTF-8",
             "command": CMD}
        )  # fmt: skip
    plain_best, packed_best = min(results["plain"][1]), min(results["compressed"][1])
    rows.append(
        {"name": "compressed ÷ plain", "note": f"read time {packed_best / plain_best:.2f}×, "
         f"file {results['compressed'][0] / results['plain'][0]:.2f}×", "command": CMD}
    )  # fmt: skip
    started = time.perf_counter()
    for html, _ in bodies:
        nfc(plain_text(html))
    derive = time.perf_counter() - started
    rows.append(
        {"name": f"derive a stored version's text ({n} versions)", "n": n,
         "median_ms": round(derive / n * 1000, 3), "note": f"{derive * 1000:.0f} ms in all (mean per version above)",
         "command": CMD}
    )  # fmt: skip
    return rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
