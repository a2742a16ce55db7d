"""Disk footprint after importing the legal corpus: the data folder against the raw text.

`python -m bench corpus_footprint [--quick]` seeds a fresh data folder with
`jiyue demo --corpus …` (the quick run imports 300 texts), serves it until the search indexer
has caught up with content's feed, stops, and prints the folder's size per file and as a
multiple of the raw text it holds (target ≤ 3×).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import CORPUS, Row
from bench.footprint import JIYUE, ROOT, free_port
from gateway.demo.city import PORTAL
from gateway.demo.corpus import COLUMN

CMD = "python -m bench corpus_footprint"
# ../shared beside the project; a worktree elsewhere names it (JIYUE_BENCH_CORPUS=/work/shared/...).
CORPUS = Path(os.environ.get("JIYUE_BENCH_CORPUS") or CORPUS)


def raw_text_bytes(limit: int | None) -> tuple[int, int, int]:
    """(bytes of the bodies, bytes of the uncompressed JSON lines, lines) of the texts imported."""
    bodies = lines = count = 0
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                break
            lines += len(line.encode())
            count += 1
            bodies += len(json.loads(line).get("body", "").encode())
    return bodies, lines, count


def folder_bytes(path: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for entry in path.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes[entry.name] = sum(p.stat().st_size for p in files)
    return sizes


def imported_and_indexed(data_dir: Path) -> tuple[int, int]:
    """(corpus texts published in the portal's 法律法规 column, how many of them search holds as
    published documents), read from the embedded databases once the server has stopped."""
    with sqlite3.connect(f"file:{data_dir / 'content.db'}?mode=ro", uri=True) as content:
        ids = [
            pid
            for (pid,) in content.execute(
                "SELECT p.id FROM publication p JOIN site_column c ON c.id = p.column_id"
                " WHERE c.site_id = ? AND c.name = ? AND p.site_id = c.site_id AND p.status = 'published'",
                (PORTAL.code, COLUMN),
            )
        ]
    with sqlite3.connect(f"file:{data_dir / 'search.db'}?mode=ro", uri=True) as search:
        indexed = {
            pid
            for (pid,) in search.execute(
                "SELECT publication_id FROM search_document WHERE status = 'published'"
            )
        }
    return len(ids), len(indexed.intersection(ids))


def wait_until_indexed(env: dict[str, str], timeout: float = 900.0) -> float:
    """Serve the folder until search's feed lag is zero; seconds it took."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [JIYUE, "serve", "--port", str(port)], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while time.perf_counter() - started < timeout:
                try:
                    body = client.get("/readyz").json()
                    checks = body.get("services", {}).get("search", {}).get("checks", {})
                except (httpx.TransportError, ValueError, AttributeError):
                    checks = {}
                feed = checks.get("feed:search-publications") or {}
                if feed.get("head") and feed.get("lag") == 0:
                    break
                time.sleep(2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return time.perf_counter() - started


def run(quick: bool = False) -> list[Row]:
    if not CORPUS.exists():
        return [{"name": "corpus footprint", "note": f"skipped: no corpus at {CORPUS}", "command": CMD}]
    limit = 300 if quick else None
    data_dir = Path(tempfile.mkdtemp(prefix="jiyue-corpus-footprint-"))
    env = {**os.environ, "JIYUE_DATA_DIR": str(data_dir), "JIYUE_ADMIN_PASSWORD": "Bench-Admin-2026"}
    try:
        args = [JIYUE, "demo", "--corpus", str(CORPUS)] + (["--corpus-limit", str(limit)] if limit else [])
        t0 = time.perf_counter()
        summaries = []
        # The import is idempotent; texts refused on one run (e.g. an expired sign-in during a
        # long import) are imported by the next, as an operator would do.
        for _ in range(3):
            out = subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
            summaries.append(next((ln.strip() for ln in out.splitlines() if "语料导入完成" in ln), ""))
            if "失败 0 篇" in summaries[-1]:
                break
        seeded = time.perf_counter() - t0
        indexed = wait_until_indexed(env)
        sizes = folder_bytes(data_dir)
        published, searchable = imported_and_indexed(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    bodies, lines, expected = raw_text_bytes(limit)
    total = sum(sizes.values())
    summary = " / ".join(summaries)
    rows: list[Row] = [
        {"name": "corpus import (jiyue demo --corpus)", "n": 1, "median_ms": round(seeded * 1000),
         "note": summary, "command": CMD},
        {"name": "serve until search caught up", "n": 1, "median_ms": round(indexed * 1000), "command": CMD},
        {"name": "texts lost (corpus lines − published and indexed)", "n": expected,
         "note": f"{published} published in 「{COLUMN}」, {searchable} of them indexed, of {expected} corpus lines: "
         f"{expected - min(published, searchable)} lost",
         "target": "0 lost", "met": published == searchable == expected, "command": CMD},
    ]  # fmt: skip
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        rows.append({"name": f"  {name}", "note": f"{size / 1e6:.1f} MB", "command": CMD})
    rows.append(
        {
            "name": "data folder ÷ raw text",
            "note": f"{total / 1e6:.1f} MB for {lines / 1e6:.1f} MB of JSON lines "
            f"({bodies / 1e6:.1f} MB of bodies): {total / lines:.2f}× ({total / bodies:.2f}× the bodies)",
            "target": "≤ 3×",
            "met": total <= 3 * lines,
            "command": CMD,
        }
    )
    return rows


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
