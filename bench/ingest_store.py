"""入库 end to end in-process: draft + store latency for corpus texts, and attachment uploads.

    .venv/bin/python -m bench.ingest_store [--quick]

The resources app runs alone on a temporary SQLite database and local object folder, called
over an in-process ASGI transport (no sockets), with tokens from a throwaway signing key.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from html import escape
from pathlib import Path

import httpx

from bench.common import CORPUS, Row, latency_row, print_table
from gateway.demo.corpus import read_corpus
from services.kernel import migrations
from services.resources import app as resources_app
from tests.support.tokens import ISSUER, TestIssuer


def texts(limit: int) -> list[tuple[str, str]]:
    out = []
    if CORPUS.exists():
        out = [(doc["title"][:300], doc["body"]) for doc in read_corpus(str(CORPUS), limit)]
    while len(out) < limit:  # without the corpus: synthetic notices of a similar size
        out.append((f"通知 {len(out)}", "各有关单位：现将有关事项通知如下。\n" * 150))
    return out


async def measure(quick: bool) -> list[Row]:
    n_docs, n_uploads = (40, 20) if quick else (400, 100)
    with tempfile.TemporaryDirectory(prefix="jiyue-bench-") as tmp:
        settings = resources_app.settings_class(data_dir=Path(tmp), public_url=ISSUER)
        await migrations.upgrade(migrations.alembic_config("resources", resources_app.MIGRATIONS, settings))
        app = resources_app.create_app(settings, run_workers=False)
        issuer = TestIssuer()
        app.state.ctx.verifier = issuer.verifier()
        headers = issuer.headers("bench", [("editor", "jtj")], site="jtj")
        meta = {
            "issuer_org": {"code": "BENCH", "name": "基准测试机关"},
            "genre": "tongzhi",
            "written_at": "2024-05-01",
        }
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                docs = texts(n_docs + 5)
                store_seconds: list[float] = []
                for i, (title, body) in enumerate(docs):
                    html = "".join(f"<p>{escape(line)}</p>" for line in body.split("\n") if line.strip())
                    started = time.perf_counter()
                    made = await client.post(
                        "/api/resources/v1/resources",
                        json={"metadata": {**meta, "title": title}, "body_html": html},
                        headers=headers,
                    )
                    rid = made.json()["id"]
                    stored = await client.post(f"/api/resources/v1/resources/{rid}/store", headers=headers)
                    if i >= 5:  # the first few warm caches and the connection pool
                        store_seconds.append(time.perf_counter() - started)
                    if stored.status_code != 200:
                        raise RuntimeError(f"store failed: {stored.status_code} {stored.text[:300]}")
                upload_seconds: list[float] = []
                size = 1024 * 1024
                for _ in range(n_uploads):
                    data = b"%PDF-1.7\n" + os.urandom(size - 9)
                    started = time.perf_counter()
                    up = await client.post(
                        f"/api/resources/v1/resources/{rid}/attachments",
                        files={"file": ("附件.pdf", data)},
                        headers=headers,
                    )
                    upload_seconds.append(time.perf_counter() - started)
                    if up.status_code != 201:
                        raise RuntimeError(f"upload failed: {up.status_code}")
    command = ".venv/bin/python -m bench.ingest_store" + (" --quick" if quick else "")
    store_row = latency_row(
        "draft + 入库 of a corpus text (HTML)",
        store_seconds,
        throughput=round(len(store_seconds) / sum(store_seconds), 1),
        unit="docs/s",
        command=command,
        note="create draft, then store: review, sanitise, 索引号, outbox; SQLite, one client",
    )
    upload_row = latency_row(
        "upload 1 MiB attachment (local store)",
        upload_seconds,
        throughput=round(len(upload_seconds) / sum(upload_seconds), 1),
        unit="MiB/s",
        command=command,
        note="streamed multipart, SHA-256, sniff, fsync + link, rows",
    )
    return [store_row, upload_row]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(measure(quick))


if __name__ == "__main__":
    print_table(run(quick="--quick" in sys.argv))
