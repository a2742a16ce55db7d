"""The public live stream of an interview, fanned out to many readers in one process.

One publisher per interview per process follows the interview's entries in the database (a
query every `poll` seconds while anyone reads, at once when a commit in this process added
one) and hands each new entry, encoded once as an SSE message, to every reader's bounded
queue. Readers never query the database while following; a reader that reconnects with
Last-Event-ID is replayed from the in-memory ring of the newest entries, or from the database
when the ring no longer reaches back that far. A reader whose queue fills (it does not read
fast enough) is told to reconnect and dropped, so a slow client costs at most `queue` entries.

Several processes (replicas) each run their own publisher on the same table: entry numbers
are handed out per interview in commit order (`Interview.last_seq`), so every publisher sees
the same sequence without gaps, and a reader may reconnect to any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.kernel.errors import ServiceUnavailable

log = logging.getLogger("jiyue.interaction.stream")

_WAKE = "jiyue_interview_wake"
PAGE = 500
# Sent when a reader is dropped for falling behind: reconnect (EventSource does it by itself).
RECONNECT = b"event: reconnect\ndata: {}\nretry: 1000\n\n"


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    data: bytes  # the whole SSE message, encoded once for every reader
    final: bool = False  # the interview ended: nothing follows


class EntrySource(Protocol):
    async def head(self, interview_id: int) -> int: ...

    async def after(self, interview_id: int, seq: int, limit: int) -> list[Frame]: ...


def wake_after_commit(session: AsyncSession, wake: Callable[[int], None], interview_id: int) -> None:
    """Ring this process's publisher of `interview_id` once the session commits."""
    session.sync_session.info.setdefault(_WAKE, []).append((wake, interview_id))


@event.listens_for(Session, "after_commit")
def _ring(sync_session: Session) -> None:
    for wake, interview_id in sync_session.info.pop(_WAKE, ()):
        wake(interview_id)


@event.listens_for(Session, "after_rollback")
def _forget(sync_session: Session) -> None:
    sync_session.info.pop(_WAKE, None)


class Reader:
    __slots__ = ("closed", "dropped", "limit", "pending", "ready")

    def __init__(self, limit: int) -> None:
        self.pending: deque[Frame] = deque()
        self.ready = asyncio.Event()
        self.limit = limit
        self.dropped = False
        self.closed = False

    def push(self, frame: Frame) -> bool:
        if len(self.pending) >= self.limit:
            self.dropped = True
            self.ready.set()
            return False
        self.pending.append(frame)
        self.ready.set()
        return True

    def close(self) -> None:
        self.closed = True
        self.ready.set()


@dataclass
class Channel:
    interview_id: int
    ring: deque[Frame]
    last: int = 0
    finished: bool = False
    readers: set[Reader] = field(default_factory=set)
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    idle_since: float = field(default_factory=time.monotonic)
    task: asyncio.Task[None] | None = None

    def publish(self, frame: Frame) -> None:
        if frame.seq <= self.last or self.finished:
            return
        self.last = frame.seq
        self.ring.append(frame)
        dropped = [r for r in self.readers if not r.push(frame)]
        for reader in dropped:
            self.readers.discard(reader)
        if dropped:
            log.info("interview %s: %d slow readers dropped", self.interview_id, len(dropped))
        if frame.final:
            self.finished = True
            for reader in self.readers:
                reader.close()
            self.readers.clear()


class StreamHub:
    def __init__(
        self,
        source: EntrySource,
        *,
        ring: int = 1000,
        queue: int = 1000,
        poll: float = 0.15,
        idle: float = 30.0,
        max_readers: int = 20_000,
    ) -> None:
        self.source = source
        self.ring_size = ring
        self.queue = queue
        self.poll = poll
        self.idle = idle
        self.max_readers = max_readers
        self.channels: dict[int, Channel] = {}
        self._opening: dict[int, asyncio.Future[Channel]] = {}

    @property
    def readers(self) -> int:
        return sum(len(c.readers) for c in self.channels.values())

    def wake(self, interview_id: int) -> None:
        channel = self.channels.get(interview_id)
        if channel is not None:
            channel.woken.set()

    async def channel(self, interview_id: int) -> Channel:
        """The interview's channel in this process, loaded (and following) before it is handed out."""
        found = self.channels.get(interview_id)
        if found is not None:
            return found
        opening = self._opening.get(interview_id)
        if opening is not None:
            return await asyncio.shield(opening)
        future: asyncio.Future[Channel] = asyncio.get_running_loop().create_future()
        self._opening[interview_id] = future
        try:
            channel = await self._load(interview_id)
            if not channel.finished:  # an ended interview's readers get the replay and go
                self.channels[interview_id] = channel
                channel.task = asyncio.create_task(self._follow(channel), name=f"interview-{interview_id}")
            future.set_result(channel)
            return channel
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody is warned about it
            raise
        finally:
            del self._opening[interview_id]

    async def _load(self, interview_id: int) -> Channel:
        head = await self.source.head(interview_id)
        channel = Channel(interview_id, deque(maxlen=self.ring_size))
        start = max(0, head - self.ring_size)
        while True:
            frames = await self.source.after(interview_id, start, PAGE)
            for frame in frames:
                channel.publish(frame)
            if len(frames) < PAGE:
                break
            start = frames[-1].seq
        return channel

    async def _follow(self, channel: Channel) -> None:
        iid = channel.interview_id
        try:
            while not channel.finished:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(channel.woken.wait(), self.poll)
                channel.woken.clear()
                try:
                    frames = await self.source.after(iid, channel.last, PAGE)
                except Exception:
                    log.exception("interview %s: reading new entries failed; retrying", iid)
                    await asyncio.sleep(self.poll)
                    continue
                for frame in frames:
                    channel.publish(frame)
                if len(frames) == PAGE:
                    channel.woken.set()
                if channel.readers:
                    channel.idle_since = time.monotonic()
                elif time.monotonic() - channel.idle_since > self.idle:
                    break
        finally:
            # A finished or idle channel goes; a later reader loads a fresh one from the database.
            if self.channels.get(iid) is channel:
                del self.channels[iid]
            for reader in channel.readers:
                reader.close()
            channel.readers.clear()

    async def follow(self, interview_id: int, after: int) -> AsyncIterator[bytes]:
        """SSE messages after `after`: the replay, then every new entry as it is published."""
        channel = await self.channel(interview_id)
        if not channel.finished and self.readers >= self.max_readers:
            raise ServiceUnavailable("直播读者已满，请稍后重试")
        return self._frames(channel, after)

    async def _frames(self, channel: Channel, after: int) -> AsyncIterator[bytes]:
        if channel.task is not None and channel.task.done() and not channel.finished:
            channel = await self.channel(channel.interview_id)  # it went idle in between
        # Snapshot and registration with no await between: nothing published is missed or doubled.
        reader = Reader(self.queue)
        snapshot = [f for f in channel.ring if f.seq > after]
        ring_first = channel.ring[0].seq if channel.ring else channel.last + 1
        live = not channel.finished
        if live:
            channel.readers.add(reader)
            channel.idle_since = time.monotonic()
        sent = after
        try:
            # Older than the ring: from the database, a page at a time, up to where the ring starts.
            while sent + 1 < ring_first:
                older = await self.source.after(channel.interview_id, sent, min(PAGE, ring_first - 1 - sent))
                if not older:
                    break
                yield b"".join(f.data for f in older)
                sent = older[-1].seq
            final = False
            for frame in snapshot:
                if frame.seq > sent:
                    yield frame.data
                    sent = frame.seq
                    final = final or frame.final
            if final or not live:
                return
            while True:
                await reader.ready.wait()
                reader.ready.clear()
                batch = []
                while reader.pending:
                    frame = reader.pending.popleft()
                    if frame.seq > sent:
                        batch.append(frame.data)
                        sent = frame.seq
                        final = final or frame.final
                if batch:
                    yield b"".join(batch)
                if final or reader.closed:
                    return
                if reader.dropped:
                    yield RECONNECT
                    return
        finally:
            channel.readers.discard(reader)

    async def aclose(self) -> None:
        for channel in list(self.channels.values()):
            for reader in channel.readers:
                reader.close()
            if channel.task is not None:
                channel.task.cancel()
        tasks = [c.task for c in self.channels.values() if c.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.channels.clear()
