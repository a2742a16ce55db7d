"""Running an ASGI app with uvicorn on a socket we make ourselves.

asyncio sets IPV6_V6ONLY on every IPv6 listening socket, so `--host ::` would refuse IPv4;
binding the socket here with V6ONLY off gives one dual-stack listener, as operators expect.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from starlette.types import Receive, Send

from gateway.protocol import Utf8TargetProtocol

log = logging.getLogger("jiyue.server")


def bind_socket(host: str, port: int) -> socket.socket:
    if ":" in host:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        if host in ("::", "::0"):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(app: Any, host: str, port: int, *, log_level: str = "info", access_log: bool = False) -> None:
    sock = bind_socket(host, port)
    config = uvicorn.Config(
        app,
        log_level=log_level.lower(),
        access_log=access_log,
        lifespan="on",
        timeout_graceful_shutdown=10,
        server_header=False,
        http=Utf8TargetProtocol,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])


async def serve_lifespan(
    context: Callable[[], AbstractAsyncContextManager[None]], receive: Receive, send: Send
) -> None:
    """The ASGI lifespan protocol around an async context manager (start, then stop)."""
    message = await receive()
    assert message["type"] == "lifespan.startup"
    cm = context()
    try:
        await cm.__aenter__()
    except BaseException as exc:
        log.exception("start failed")
        await send({"type": "lifespan.startup.failed", "message": str(exc)})
        return
    await send({"type": "lifespan.startup.complete"})
    await receive()
    await cm.__aexit__(None, None, None)
    await send({"type": "lifespan.shutdown.complete"})
