"""Shared by every benchmark: percentiles, peak RSS, the result row and its table."""

from __future__ import annotations

import os
import resource
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

# The legal-text corpus beside the project (../shared/data); never copied into it. A worktree
# elsewhere names it: JIYUE_BENCH_CORPUS=/work/shared/data/cn-laws-regulations.jsonl.gz
CORPUS = Path(
    os.environ.get("JIYUE_BENCH_CORPUS")
    or Path(__file__).resolve().parents[2] / "shared" / "data" / "cn-laws-regulations.jsonl.gz"
)


class Row(TypedDict, total=False):
    name: str  # what was measured
    n: int  # samples / requests
    median_ms: float
    p95_ms: float
    p99_ms: float
    throughput: float  # per second
    unit: str  # what throughput counts: "req/s", "docs/s", ...
    peak_rss_mb: float
    target: str  # the target it is held against, e.g. "p95 ≤ 30 ms"
    met: bool
    note: str
    command: str  # how to reproduce this figure


def percentile(samples: Sequence[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency_row(name: str, seconds: Sequence[float], **extra: Any) -> Row:
    ms = [s * 1000 for s in seconds]
    row: Row = {
        "name": name,
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 3) if ms else float("nan"),
        "p95_ms": round(percentile(ms, 0.95), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "peak_rss_mb": peak_rss_mb(),
    }
    row.update(extra)  # type: ignore[typeddict-item]
    return row


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def print_table(rows: Sequence[Row], out: Any = sys.stdout) -> None:
    cols = [
        "name",
        "n",
        "median_ms",
        "p95_ms",
        "p99_ms",
        "throughput",
        "unit",
        "peak_rss_mb",
        "target",
        "met",
    ]
    table = [[str(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in table)) if table else len(c) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)), file=out)
    for t in table:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths, strict=True)), file=out)
    for r in rows:
        if r.get("command"):
            print(f"  {r['name']}: {r['command']}", file=out)
        if r.get("note"):
            print(f"    note: {r['note']}", file=out)
