"""Availability: the platform probes each online site's homepage through its own gateway.

The probe goes out over HTTP to the gateway's address (settings: the platform's public URL),
through the guarded outbound client with the operator's allow-list for that address. In-process
calls through the service directory would skip the gateway's listener, TLS, tenant resolution
and rate limits — exactly what a citizen's request crosses — and in split mode would reach
content directly, so they would measure the wrong thing. A probe that fails, answers non-2xx or
takes longer than the deadline (15 s) counts as unreachable. One row per site per probe, pruned
after the week the rule looks at (plus a day).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.db import Database
from services.kernel.outbound import OutboundClient, OutboundError
from services.oversight.models import ProbeResult, WatchedSite
from services.oversight.service.freshness import Evidence, Finding, Rules, level_of
from services.oversight.vocab import PROBE_QUERY, Indicator, Level

WINDOW = timedelta(days=7)
KEEP = WINDOW + timedelta(days=1)


def homepage_url(base: str, code: str) -> str:
    return f"{base.rstrip('/')}/sites/{code}/api/content/v1/site?{PROBE_QUERY}"


@dataclass(frozen=True)
class Probe:
    site: str
    ok: bool
    status: int
    elapsed_ms: int


async def probe_site(client: OutboundClient, base: str, code: str, deadline: float) -> Probe:
    started = time.monotonic()
    try:
        resp = await client.request("GET", homepage_url(base, code), headers={"User-Agent": "jiyue-probe"})
    except OutboundError:
        return Probe(code, False, 0, int((time.monotonic() - started) * 1000))
    elapsed = time.monotonic() - started
    ok = 200 <= resp.status_code < 300 and elapsed <= deadline
    return Probe(code, ok, resp.status_code, int(elapsed * 1000))


async def probe_all(
    db: Database, client: OutboundClient, base: str, deadline: float = 15.0, concurrency: int = 8
) -> list[Probe]:
    """One probe of every online site, stored as one row each; the network part outside any transaction."""
    async with db.session() as session:
        codes = (
            (await session.execute(select(col(WatchedSite.code)).where(col(WatchedSite.status) == "online")))
            .scalars()
            .all()
        )
    gate = asyncio.Semaphore(concurrency)

    async def one(code: str) -> Probe:
        async with gate:
            return await probe_site(client, base, code, deadline)

    probes = await asyncio.gather(*(one(code) for code in codes))
    at = clock.now()
    async with db.session() as session:
        for p in probes:
            await session.merge(
                ProbeResult(site=p.site, at=at, ok=p.ok, status=p.status, elapsed_ms=p.elapsed_ms)
            )
    return list(probes)


async def prune_probes(session: AsyncSession) -> int:
    result = await session.execute(delete(ProbeResult).where(col(ProbeResult.at) < clock.now() - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)


async def availability(session: AsyncSession, code: str, rules: Rules, now: datetime) -> Finding:
    """Failed probes over the last week, in per mille of all probes, with the failures as evidence."""
    rows = (
        (
            await session.execute(
                select(ProbeResult)
                .where(col(ProbeResult.site) == code, col(ProbeResult.at) > now - WINDOW)
                .order_by(col(ProbeResult.at))
            )
        )
        .scalars()
        .all()
    )
    warn_at, veto_at = rules.counts[Indicator.UNAVAILABLE.value]
    failed = [r for r in rows if not r.ok]
    value = (len(failed) * 1000) // len(rows) if rows else 0
    evidence = [
        Evidence(
            None,
            "首页探测",
            None,
            None,
            since=clock.aware(r.at),
            detail=f"HTTP {r.status}" if r.status else "无应答或超时",
        )
        for r in failed[-20:]
    ]
    level = level_of(value, warn_at, veto_at) if rows else Level.OK
    return Finding(Indicator.UNAVAILABLE, level, value, warn_at, veto_at, evidence)
