"""The content workers' two loops: a pass loop (run a step until stopped, idle unless more is
waiting, woken early by writers), and the push loop that webhooks and new-media accounts share.

A push try runs concurrently outside any transaction, bounded by the guarded client's total
deadline (`content_push_timeout_seconds`); one target (a channel or an account) holds at most
`content_push_per_channel` slots, so a slow receiver stalls only itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.content.service import push
from services.content.service.common import ContentState
from services.content.service.deadletters import DEAD_LETTERS
from services.content.settings import ContentSettings
from services.content.vocab import DeadLetterKind, Worker
from services.kernel.context import ServiceContext
from services.kernel.context import Worker as WorkerFn

log = logging.getLogger("jiyue.content.workers")


async def _idle(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


def worker_loop(
    name: str, step: Callable[[], Awaitable[bool]], seconds: float, wake: asyncio.Event | None = None
) -> WorkerFn:
    """Run `step` until stopped; idle `seconds` (or until woken) unless it says more is waiting."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            more = False
            try:
                more = await step()
            except Exception:
                log.exception("content %s pass failed", name)
            if not more:
                await _idle(stop, wake, seconds)

    return run


class ClaimDue(Protocol):
    async def __call__(
        self, session: AsyncSession, free_slots: Callable[[int], int], lease: timedelta
    ) -> list[push.Claim]: ...


class Record(Protocol):
    async def __call__(
        self,
        session: AsyncSession,
        claim: push.Claim,
        outcome: push.Outcome,
        *,
        max_attempts: int,
        backoff: float,
    ) -> str | None: ...


class Pusher:
    """Claims due tries of one push channel (`claim_due`), runs them, writes their outcomes
    (`record`); an outcome that is `dead` counts as a dead letter of `kind`."""

    def __init__(
        self,
        ctx: ServiceContext,
        state: ContentState,
        settings: ContentSettings,
        *,
        claim_due: ClaimDue,
        record: Record,
        dead: str,
        kind: DeadLetterKind,
    ) -> None:
        self.ctx, self.state, self.settings = ctx, state, settings
        self.claim_due, self.record, self.dead, self.kind = claim_due, record, dead, kind
        self.in_flight: dict[int, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.lease = timedelta(seconds=settings.content_push_timeout_seconds + 5)

    def free_slots(self, target_id: int) -> int:
        return self.settings.content_push_per_channel - self.in_flight.get(target_id, 0)

    async def deliver(self, claim: push.Claim) -> None:
        try:
            outcome = await push.send(self.state.push_client, claim)
            async with self.ctx.db.session() as session:
                status = await self.record(
                    session,
                    claim,
                    outcome,
                    max_attempts=self.settings.content_push_max_attempts,
                    backoff=self.settings.content_push_backoff_seconds,
                )
            if status == self.dead:
                DEAD_LETTERS.labels(self.kind).inc()
        except Exception:
            log.exception("%s try %s failed", self.kind, claim.delivery_id)
        finally:
            self.in_flight[claim.channel_id] -= 1

    async def step(self) -> list[asyncio.Task[None]]:
        """Claim what is due and start its tries; returns them (tests await them)."""
        async with self.ctx.db.session() as session:
            claims = await self.claim_due(session, self.free_slots, self.lease)
        started = []
        for claim in claims:
            self.in_flight[claim.channel_id] = self.in_flight.get(claim.channel_id, 0) + 1
            task = asyncio.create_task(self.deliver(claim))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started.append(task)
        return started

    def worker(self, name: Worker) -> WorkerFn:
        async def step() -> bool:
            await self.step()
            return False

        loop = worker_loop(
            name, step, min(1.0, self.settings.content_push_backoff_seconds), self.state.event(name)
        )

        async def run(stop: asyncio.Event) -> None:
            try:
                await loop(stop)
            finally:
                for task in list(self.tasks):
                    task.cancel()
                await asyncio.gather(*self.tasks, return_exceptions=True)

        return run
