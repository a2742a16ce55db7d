"""The worker of resource sharing: placement states the source has not acknowledged yet (a peer
that was down when a city editor placed its resource, a withdrawal seen on the content feed)
are sent again until it does, so the usage register at the source ends up right."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.federation.service.placements import sync_usages
from services.federation.state import FederationState
from services.kernel.context import ServiceContext, Worker

log = logging.getLogger("jiyue.federation")


def usage_sync(ctx: ServiceContext, state: FederationState) -> Worker:
    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with ctx.db.session() as session:
                    await sync_usages(session, state.sealer, state.outbound)
            except Exception as exc:  # one bad round must not end the loop; the rows stay queued
                log.warning("federation: usages not sent to peers: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), state.settings.federation_peer_refresh_seconds)

    return run
