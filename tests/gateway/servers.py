"""Real uvicorn servers on loopback ports, in a thread, for tests that need sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Iterator
from typing import Any, Literal, TypeVar

import uvicorn
from uvicorn._compat import asyncio_run

from gateway.protocol import Utf8TargetProtocol
from gateway.server import bind_socket

T = TypeVar("T")
# The event loop each served port runs on: objects the served app built (its locks, its
# in-process clients, its database pools) belong to that loop, so a test that calls into them
# directly must run its coroutine there (`on_server`).
_LOOPS: dict[int, asyncio.AbstractEventLoop] = {}


def on_server(port: int, awaitable: Awaitable[T], timeout: float = 30.0) -> T:
    """Await `awaitable` on the loop serving `port` and wait for its result."""

    async def run() -> T:
        return await awaitable

    return asyncio.run_coroutine_threadsafe(run(), _LOOPS[port]).result(timeout)


@contextlib.contextmanager
def serving(
    app: Any,
    host: str = "127.0.0.1",
    *,
    lifespan: Literal["auto", "on", "off"] = "on",
    start_timeout: float = 10.0,
    port: int = 0,
) -> Iterator[int]:
    """Serve `app` on a free port of `host` (`::` is dual-stack) until the block ends; `port`
    picks it instead (a platform restarted where its peers expect it)."""
    sock = bind_socket(host, port)
    port = int(sock.getsockname()[1])
    # the protocol production serves with (gateway/server.py)
    config = uvicorn.Config(
        app, log_level="warning", lifespan=lifespan, access_log=False, http=Utf8TargetProtocol
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        _LOOPS[port] = asyncio.get_running_loop()
        await server.serve(sockets=[sock])

    # what `server.run` does, with the loop recorded
    loop_factory = config.get_loop_factory()
    thread = threading.Thread(target=lambda: asyncio_run(serve(), loop_factory=loop_factory), daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        _LOOPS.pop(port, None)
        sock.close()


@contextlib.contextmanager
def hanging_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ipv6_loopback() -> bool:
    """Whether this machine can bind ::1 (some containers have no IPv6 at all)."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False
