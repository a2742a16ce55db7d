"""The new-media push worker: tries run concurrently outside transactions, a few per account.

Each try is bounded by the guarded client's total deadline (`content_push_timeout_seconds`), and
one account holds at most `content_push_per_channel` slots, so a slow connector stalls only itself.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from services.content.service import newmedia, push
from services.content.service.common import ContentState
from services.content.service.deadletters import DEAD_LETTERS
from services.content.settings import ContentSettings
from services.content.vocab import DeadLetterKind, NewMediaTaskState, Worker
from services.content.workers import _loop
from services.kernel.context import ServiceContext
from services.kernel.context import Worker as WorkerFn

log = logging.getLogger("jiyue.content.newmedia")


class NewMediaPusher:
    def __init__(self, ctx: ServiceContext, state: ContentState, settings: ContentSettings) -> None:
        self.ctx, self.state, self.settings = ctx, state, settings
        self.in_flight: dict[int, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.lease = timedelta(seconds=settings.content_push_timeout_seconds + 5)

    def free_slots(self, account_id: int) -> int:
        return self.settings.content_push_per_channel - self.in_flight.get(account_id, 0)

    async def deliver(self, claim: push.Claim) -> None:
        try:
            outcome = await push.send(self.state.push_client, claim)
            async with self.ctx.db.session() as session:
                status = await newmedia.record(
                    session,
                    claim,
                    outcome,
                    max_attempts=self.settings.content_push_max_attempts,
                    backoff=self.settings.content_push_backoff_seconds,
                )
            if status == NewMediaTaskState.DEAD:
                DEAD_LETTERS.labels(DeadLetterKind.NEW_MEDIA).inc()
        except Exception:
            log.exception("new-media task %s failed", claim.delivery_id)
        finally:
            self.in_flight[claim.channel_id] -= 1

    async def step(self) -> list[asyncio.Task[None]]:
        """Claim what is due and start its tries; returns them (tests await them)."""
        async with self.ctx.db.session() as session:
            claims = await newmedia.claim_due(session, self.free_slots, self.lease)
        started = []
        for claim in claims:
            self.in_flight[claim.channel_id] = self.in_flight.get(claim.channel_id, 0) + 1
            task = asyncio.create_task(self.deliver(claim))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started.append(task)
        return started


def newmedia_worker(ctx: ServiceContext, state: ContentState, settings: ContentSettings) -> WorkerFn:
    pusher = NewMediaPusher(ctx, state, settings)

    async def step() -> bool:
        await pusher.step()
        return False

    loop = _loop(
        Worker.NEW_MEDIA, step, min(1.0, settings.content_push_backoff_seconds), state.event(Worker.NEW_MEDIA)
    )

    async def run(stop: asyncio.Event) -> None:
        try:
            await loop(stop)
        finally:
            for task in list(pusher.tasks):
                task.cancel()
            await asyncio.gather(*pusher.tasks, return_exceptions=True)

    return run
