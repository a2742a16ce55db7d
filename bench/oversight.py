"""Oversight's visit statistics: ingesting a million access events, answering a site's year.

.venv/bin/python -m bench.oversight [--quick]
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Row, peak_rss_mb, print_table
from gateway import migrate
from services.kernel.db import Database
from services.oversight.schemas import AccessEventIn
from services.oversight.service.visits import PLATFORM, ingest, unique_visitors, views_between
from services.oversight.settings import OversightSettings

BATCH = 5000  # what the gateway hands over in one call
SITES = 50


async def _run(visits: int, visitors: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        await migrate.migrate(["oversight"], data_dir=data)
        settings = OversightSettings(data_dir=data)
        db = Database(settings.service_database_url("oversight"), settings.database_schema("oversight"))
        rng = random.Random(7)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        moments = sorted(rng.randrange(364 * 86400) for _ in range(visits))
        truth: dict[str, set[int]] = {}
        began = time.perf_counter()
        for offset in range(0, visits, BATCH):
            events = []
            for i in range(offset, min(visits, offset + BATCH)):
                visitor = rng.randrange(visitors)
                site = f"s{visitor % SITES:02d}"
                truth.setdefault(site, set()).add(visitor)
                events.append(
                    AccessEventIn.model_construct(
                        ts=start + timedelta(seconds=moments[i]),
                        client=f"10.{visitor >> 16 & 255}.{visitor >> 8 & 255}.{visitor & 255}",
                        method="GET",
                        path=f"/api/content/v1/items/{rng.randrange(2000) + 1}",
                        status=200,
                        site=site,
                    )
                )
            async with db.session() as session:
                await ingest(session, events, settings.oversight_hll_lg_k)
        ingest_s = time.perf_counter() - began
        began = time.perf_counter()
        async with db.session() as session:
            rows = await views_between(session, "s00", start.date(), (start + timedelta(days=364)).date())
            estimate = await unique_visitors(session, "s00", "2026")
        answer_ms = (time.perf_counter() - began) * 1000
        async with db.session() as session:
            platform = await unique_visitors(session, PLATFORM, "2026")
        await db.dispose()
    error = (estimate - len(truth["s00"])) / len(truth["s00"])
    everyone = len(set().union(*truth.values()))
    platform_error = (platform - everyone) / everyone
    command = ".venv/bin/python -m bench.oversight"
    return [
        {
            "name": "oversight: ingest access events (embedded SQLite)",
            "n": visits,
            "throughput": round(visits / ingest_s),
            "unit": "events/s",
            "peak_rss_mb": peak_rss_mb(),
            "note": (
                f"{visitors} visitors over {SITES} sites, batches of {BATCH}, one process; platform-wide "
                f"yearly unique visitors {platform} vs {everyone} true ({platform_error:+.2%}, target ±2 %)"
            ),
            "command": command,
        },
        {
            "name": "oversight: one site's year (views by day + unique visitors)",
            "n": len(rows),
            "median_ms": round(answer_ms, 1),
            "note": f"unique visitors {estimate} vs {len(truth['s00'])} true ({error:+.2%})",
            "command": command,
        },
    ]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_run(100_000 if quick else 1_000_000, 10_000 if quick else 100_000))


if __name__ == "__main__":
    print_table(run("--quick" in sys.argv))
