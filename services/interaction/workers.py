"""The deadline worker: reminders and overdue alerts on a timer (the clock decides, not the timer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.interaction.service import consultations, surveys, transcripts
from services.interaction.service.delivery import Links
from services.interaction.service.digests import assemble, send_digests
from services.interaction.service.sending import Bucket, Pace, queue_stats, send_due
from services.interaction.service.sweep import sweep
from services.kernel.clock import epoch
from services.kernel.context import ServiceContext, Worker
from services.kernel.mail import MailSender

log = logging.getLogger("jiyue.interaction.sweep")
METRICS_EVERY = 5.0


def deadline_worker(ctx: ServiceContext, interval: float) -> Worker:
    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with ctx.db.session() as session:
                    done = await sweep(session)
                if done.reminded or done.overdue or done.reports_overdue or done.rectifications_overdue:
                    log.info(
                        "deadline sweep: %d reminded, %d letters, %d reports, %d rectifications overdue",
                        len(done.reminded),
                        len(done.overdue),
                        len(done.reports_overdue),
                        len(done.rectifications_overdue),
                    )
            except Exception:
                log.exception("deadline sweep failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return run


def closing_worker(ctx: ServiceContext, interval: float) -> Worker:
    """Consultations and surveys whose end passed are closed (and announced) within `interval`."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with ctx.db.session() as session:
                    closed = await consultations.close_due(session) + await surveys.close_due(session)
                if closed:
                    log.info("closed %d consultations and surveys whose end passed", closed)
            except Exception:
                log.exception("closing consultations and surveys failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return run


def subscription_sender(
    ctx: ServiceContext,
    sender: MailSender,
    links: Links,
    pace: Pace,
    idle: float,
    bucket: Bucket | None = None,
) -> Worker:
    """Drains the delivery queue; sleeps `idle` when nothing is due (or no relay is configured).
    The queue's gauges are refreshed at most once per `METRICS_EVERY` seconds."""

    async def run(stop: asyncio.Event) -> None:
        measured = 0.0
        while not stop.is_set():
            tried = 0
            if sender.configured:
                try:
                    tried = await send_due(ctx.db, sender, links, pace, bucket)
                except Exception:
                    log.exception("subscription sender failed; retrying")
            if epoch() - measured >= METRICS_EVERY:
                measured = epoch()
                try:
                    await queue_stats(ctx.db)
                except Exception:
                    log.exception("subscription queue metrics failed")
            if tried < pace.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle)

    return run


def transcript_worker(ctx: ServiceContext, pace: transcripts.Pace, interval: float) -> Worker:
    """Archived interviews' transcripts go to content, off the request path; rows stay queued
    in the database, so a crash loses nothing and the next process resumes them."""

    async def run(stop: asyncio.Event) -> None:
        secret = ctx.settings.internal_client_secret
        while not stop.is_set():
            try:
                if await transcripts.publish_due(ctx.db, ctx.directory, secret, pace):
                    continue  # there may be more due
            except Exception:
                log.exception("transcript publication failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return run


def digest_worker(
    ctx: ServiceContext, sender: MailSender, links: Links, pace: Pace, hour: int, interval: float
) -> Worker:
    """Assembles closed periods' digests and sends them; the clock decides when a period is due."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            if sender.configured:
                try:
                    made = await assemble(ctx.db, hour)
                    if made:
                        log.info("%d subscription digests assembled", made)
                    while await send_digests(ctx.db, sender, links, pace) == pace.batch and not stop.is_set():
                        pass
                except Exception:
                    log.exception("subscription digests failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return run
