"""`python -m bench [--quick] [names...]`: run the benchmarks, print a table, save JSON.

Every benchmark is a module of this package with `run(quick) -> list[Row]`; it starts what it
needs on loopback, warms up, measures and stops by itself.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil

from bench.common import print_table

# In the order they are run; a module that does not exist yet is reported, not hidden.
BENCHMARKS = (
    "identity",
    "gateway",
    "delivery",
    "search",
    "search_recall",
    "search_gateway",
    "review",
    "ingest",
    "republish",
    "footprint",
    "corpus_footprint",
    "body_storage",
    "oversight",
    "mirror",
    "interview_fanout",
    "import_corpus",
    "interaction_lists",
    "subscriptions_fanout",
)
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, object]:
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help=f"subset of {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="smoke run, under 2 minutes")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    started = datetime.now(ZoneInfo("Asia/Shanghai"))
    report: dict[str, object] = {
        "date": started.isoformat(),
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "results": {},
    }
    failed = []
    for name in names:
        print(f"\n== {name} ({'quick' if args.quick else 'full'}) ==", flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            print(f"   (no benchmark module bench/{name}.py)")
            continue
        try:
            rows = module.run(quick=args.quick)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        print_table(rows)
        print(f"   ({time.perf_counter() - t0:.1f}s)")
        report["results"][name] = rows  # type: ignore[index]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{started:%Y%m%d-%H%M%S}-{report['mode']}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    print(f"\nresults: {out}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
