"""A process that is killed on purpose in the middle of an upload or a store.

    python -m tests.resources.crash_child {upload|store} <data_dir> <marker_file>

It writes the marker when it has reached the dangerous point, then waits to be SIGKILLed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from services.resources.service import store as store_module
from tests.resources.conftest import SITE, policy_metadata
from tests.support.services import running_service
from tests.support.tokens import TestIssuer

HANG_SECONDS = 60


def reached(marker: Path) -> None:
    marker.write_text("reached")


async def crash_in_upload(client: Any, headers: dict[str, str], rid: int, marker: Path) -> None:
    boundary = "crashboundary"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.pdf"\r\n\r\n'
        ).encode()
        yield b"%PDF-1.7\n" + b"x" * 300_000
        reached(marker)
        await asyncio.sleep(HANG_SECONDS)
        yield b"never sent"

    await client.post(
        f"/api/resources/v1/resources/{rid}/attachments",
        content=body(),
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )


async def crash_in_store(client: Any, headers: dict[str, str], rid: int, marker: Path) -> None:
    original = store_module.emit

    async def emit_then_hang(*args: Any, **kwargs: Any) -> None:
        await original(*args, **kwargs)  # the event, the version and the 索引号 are written...
        reached(marker)
        await asyncio.sleep(HANG_SECONDS)  # ...but not committed: the process dies here

    store_module.emit = emit_then_hang  # type: ignore[assignment]
    await client.post(f"/api/resources/v1/resources/{rid}/store", headers=headers)


async def main(mode: str, data_dir: Path, marker: Path) -> None:
    issuer = TestIssuer()
    headers = issuer.headers("ed1", [("editor", SITE)], site=SITE)
    async with running_service("resources", data_dir, issuer) as (_app, client):
        resp = await client.post(
            "/api/resources/v1/resources",
            json={"metadata": policy_metadata(), "body_html": "<p>正文</p>"},
            headers=headers,
        )
        rid = resp.json()["id"]
        if mode == "upload":
            await crash_in_upload(client, headers, rid, marker)
        else:
            await crash_in_store(client, headers, rid, marker)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
