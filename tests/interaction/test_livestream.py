"""The stream hub on its own: replay from the ring or the source, slow readers dropped, no
query per reader."""

from __future__ import annotations

import asyncio

from services.interaction.service.livestream import RECONNECT, Frame, StreamHub


class Source:
    """An interview's entries in memory, counting the reads the hub makes."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.reads = 0

    def add(self, final: bool = False) -> None:
        seq = len(self.frames) + 1
        self.frames.append(Frame(seq, f"id: {seq}\ndata: {{}}\n\n".encode(), final))

    async def head(self, interview_id: int) -> int:
        return len(self.frames)

    async def after(self, interview_id: int, seq: int, limit: int) -> list[Frame]:
        self.reads += 1
        return self.frames[seq : seq + limit]


def ids(chunks: list[bytes]) -> list[int]:
    text = b"".join(chunks).decode()
    return [int(line[4:]) for line in text.splitlines() if line.startswith("id: ")]


async def _collect(stream: object, into: list[bytes]) -> None:
    async for chunk in stream:  # type: ignore[attr-defined]
        into.append(chunk)


async def test_a_hundred_readers_cost_one_read_per_poll_not_one_each() -> None:
    source = Source()
    for _ in range(5):
        source.add()
    hub = StreamHub(source, ring=3, poll=0.01)
    got: list[list[bytes]] = [[] for _ in range(100)]
    tasks = [asyncio.create_task(_collect(await hub.follow(1, 0), g)) for g in got]
    await asyncio.sleep(0.05)
    reads_before = source.reads
    for _ in range(4):
        source.add()
    source.add(final=True)
    hub.wake(1)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert all(ids(g) == list(range(1, 11)) for g in got)  # 1–2 from the source, 3–5 the ring, then live
    assert source.reads - reads_before <= 3  # the publisher's polls; no reader read anything live
    assert hub.readers == 0 and hub.channels == {}


async def test_a_slow_reader_is_told_to_reconnect_and_dropped() -> None:
    source = Source()
    hub = StreamHub(source, queue=3, poll=0.01)
    stream = await hub.follow(1, 0)
    got: list[bytes] = []
    first = asyncio.create_task(anext(stream))  # registers the reader, then waits
    await asyncio.sleep(0.02)
    for _ in range(6):  # the reader does not read meanwhile: its queue of 3 overflows
        source.add()
    hub.wake(1)
    await asyncio.sleep(0.05)
    assert hub.readers == 0
    got.append(await first)
    got += [chunk async for chunk in stream]
    assert ids(got) == [1, 2, 3] and got[-1] == RECONNECT
    resumed: list[bytes] = []
    source.add(final=True)
    await asyncio.wait_for(_collect(await hub.follow(1, 3), resumed), 5)
    assert ids(resumed) == [4, 5, 6, 7]
    await hub.aclose()
