"""The fan-out benchmark's ordering at a twentieth of its scale: 1,000 subscribers of one
column, 20 ordinary items queued at once (20,000 messages), then one important item — every
message of the important item reaches the loopback SMTP server while the ordinary backlog is
still almost whole. Latency is the benchmark's to measure (this machine is shared); the order
is what this test holds."""

from __future__ import annotations

import asyncio
import time
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from bench.subscriptions_fanout import fanout_queue, item_doc
from services.interaction.service.delivery import Links, enqueue
from services.interaction.service.sending import Pace, queue_stats, send_due
from services.interaction.service.subscriptions import Signer
from services.kernel.mail import MailSender, SmtpSettings
from tests.support.smtp import _free_port

SUBSCRIBERS = 1_000
ORDINARY = 20
PACE = Pace(batch=100, max_attempts=3, retry_base=1.0, retry_max=5.0, concurrency=8)
HEADERS = BytesParser(policy=compat32)
LINKS = Links("https://www.jiyue.example", Signer("test-secret", 3600))


class Arrivals:
    def __init__(self) -> None:
        self.seen: list[bool] = []  # per message in arrival order: was it the important item's?

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = HEADERS.parsebytes(envelope.content, headersonly=True)["Subject"] or ""
        self.seen.append("【重要】" in str(make_header(decode_header(raw))))
        return "250 OK"


async def _until(done: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:  # the relay's thread counts arrivals: polled, there is no event to wait on
        if done() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


async def test_the_important_item_overtakes_a_backlog_twenty_times_its_size(tmp_path: Path) -> None:
    db = await fanout_queue(tmp_path / "q.db", SUBSCRIBERS, site="jtj")
    relay = Arrivals()
    port = _free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    sender = MailSender(SmtpSettings(host="127.0.0.1", port=port, sender="push@jiyue.example"))
    stop = asyncio.Event()

    async def send_loop() -> None:
        while not stop.is_set():
            if await send_due(db, sender, LINKS, PACE) == 0:
                await asyncio.sleep(0.05)

    loops = [asyncio.create_task(send_loop()) for _ in range(2)]
    try:
        for pid in range(1, ORDINARY + 1):
            async with db.session() as session:
                assert await enqueue(session, item_doc(pid, False, site="jtj")) == SUBSCRIBERS
        await _until(lambda: len(relay.seen) >= 200, 120)  # the sender is deep in the backlog
        assert len(relay.seen) >= 200
        before = len(relay.seen)
        async with db.session() as session:
            assert await enqueue(session, item_doc(ORDINARY + 1, True, site="jtj")) == SUBSCRIBERS
        await _until(lambda: sum(relay.seen) >= SUBSCRIBERS, 240)
        stats = await queue_stats(db)
    finally:
        stop.set()
        await asyncio.gather(*loops)
        await sender.aclose()
        controller.stop()
        await db.engine.dispose()
    assert sum(relay.seen) == SUBSCRIBERS, "every message of the important item arrived"
    last = max(i for i, important in enumerate(relay.seen) if important)
    overtaken = relay.seen[before : last + 1].count(False)
    # Only the batches already claimed when it was queued (2 loops x 100) may go before it, and
    # the messages the sender's sessions had on the wire when `before` was read.
    assert overtaken <= 2 * PACE.batch + sender.settings.pool_size, overtaken
    depth, _ = stats["ordinary"]
    assert depth > ORDINARY * SUBSCRIBERS - 2_000, depth  # the backlog it overtook is still almost whole
