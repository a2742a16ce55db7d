"""`jiyue import` of the legal corpus into a fresh platform: items/s end to end, peak RSS, lost.

.venv/bin/python -m bench.import_corpus [--quick] [--limit=N] [--split] [--arenas=N] [--keep=DIR]

The corpus becomes a bundle (docs/import-format.md) in a temporary folder; a fresh data folder
gets the demo's accounts, sites and the portal's 法律法规 column; then `jiyue import BUNDLE
--site sfs --approve-migration` runs as its own process, as an operator would run it, and is
timed from start to exit: every text stored (machine review), published and indexed (the
command waits for the search indexer to catch up). Peak RSS is that process's. Lost = texts
neither published nor reported as failed; searchable = documents in the search engine's index
afterwards (tantivy's folder or the Elasticsearch alias), read by the engine's own `ids()`.
`--split` (after `source ~/.cache/jiyue/run/services.env`) runs the same command on PostgreSQL
(a fresh database), Elasticsearch (a fresh index prefix) and MinIO (a fresh bucket) instead of
the embedded default. `--arenas=N` sets MALLOC_ARENA_MAX=N for the import process (what
`services.kernel.memory.cap_malloc_arenas` does from inside), to show what it does to RSS.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from rich.console import Console

from bench.common import CORPUS, Row, print_table
from gateway import migrate
from gateway.app import create_gateway
from gateway.demo import identity as demo_identity
from gateway.demo import sites as demo_sites
from gateway.demo.city import PORTAL
from gateway.demo.corpus import COLUMN, _column, history, markdown_to_html, metadata, read_corpus
from gateway.demo.seed import Demo
from gateway.settings import GatewaySettings
from services.search.analysis import get_analyzer
from services.search.backends import make_backend
from services.search.settings import SearchSettings

ROOT = Path(__file__).resolve().parents[1]
WAGTAIL_ANCHOR = 14.0  # pages/s, Wagtail 8 on the same machine and corpus (issue 15)


def corpus_path() -> Path:
    return Path(os.environ.get("JIYUE_BENCH_CORPUS", str(CORPUS)))


def write_bundle(folder: Path, limit: int | None) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    with (folder / "items.jsonl").open("w", encoding="utf-8") as fh:
        for doc in read_corpus(str(corpus_path()), limit):
            meta = metadata(doc)
            line = {
                "source_key": str(doc.get("id") or f"corpus-{n}"),
                "column": COLUMN,
                "title": meta["title"],
                "body_html": markdown_to_html(doc["body"]),
                "doc_number": meta.get("doc_no"),
                "issuer": meta["issuer_org"]["name"],
                "published_at": meta.get("published_at") or meta["written_at"],
                "written_at": meta["written_at"],
                "validity": "repealed" if meta["validity"] != "有效" else "effective",
                "events": [
                    {"kind": s["kind"], "date": s["on"], "text": s["text"]}
                    for s in history(doc.get("events") or [])
                ],
                "genre": "fagui",
                "keywords": meta["keywords"],
                "original_url": f"/flfg/{doc.get('id') or n}.html",
            }
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            n += 1
    return n


async def prepare(data_dir: Path) -> None:
    os.environ.update({"JIYUE_ARGON2_TIME_COST": "1", "JIYUE_ARGON2_MEMORY_COST": "1024"})
    settings = GatewaySettings(data_dir=data_dir, gateway_access_log=False)
    await migrate.migrate(data_dir=data_dir)
    asgi = create_gateway(settings)
    async with asgi.gateway.lifespan():
        transport = httpx.ASGITransport(app=asgi.gateway.trusted)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=300) as c:
            demo = Demo(
                client=c, console=Console(quiet=True), settings=settings, directory=asgi.gateway.directory
            )
            await demo_identity.seed(demo)
            await demo_sites.seed(demo)
            await _column(demo, await demo.internal_headers())


async def count(data_dir: Path) -> tuple[int, int]:
    """(published texts in the column, documents in the search engine's index)."""
    settings = GatewaySettings(data_dir=data_dir, gateway_access_log=False)
    asgi = create_gateway(settings)
    async with asgi.gateway.lifespan():
        transport = httpx.ASGITransport(app=asgi.gateway.trusted)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", timeout=300, auth=asgi.gateway.directory.auth
        ) as c:
            listed = (
                await c.get(
                    f"/api/content/v1/sites/{PORTAL.code}/publications",
                    params={"status": "published", "size": 1},
                )
            ).json()
    search_settings = SearchSettings(data_dir=data_dir)
    backend = make_backend(search_settings, get_analyzer(search_settings.search_dict_dir))
    await backend.open()
    try:
        return int(listed["total"]), len(await backend.ids())
    finally:
        await backend.close()


async def split_environment() -> dict[str, str]:
    """PostgreSQL, Elasticsearch and MinIO of `services.env`, fresh names for this run."""
    url = os.environ["JIYUE_TEST_POSTGRES_URL"]
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return {
        "JIYUE_DATABASE_URL": f"{url.rpartition('/')[0]}/{name}",
        "JIYUE_SEARCH_BACKEND": "elasticsearch",
        "JIYUE_ELASTICSEARCH_URL": os.environ["JIYUE_TEST_ELASTICSEARCH_URL"],
        "JIYUE_SEARCH_INDEX_PREFIX": name.replace("_", "-"),
        "JIYUE_OBJECT_STORE": "s3",
        "JIYUE_S3_ENDPOINT": os.environ["JIYUE_TEST_S3_ENDPOINT"],
        "JIYUE_S3_ACCESS_KEY": os.environ.get("JIYUE_TEST_S3_ACCESS_KEY", ""),
        "JIYUE_S3_SECRET_KEY": os.environ.get("JIYUE_TEST_S3_SECRET_KEY", ""),
        "JIYUE_S3_BUCKET": name.replace("_", "-"),
    }


def run(
    quick: bool,
    limit: int | None = None,
    *,
    split: bool = False,
    arenas: int | None = None,
    keep: str | None = None,
) -> list[Row]:
    limit = limit or (300 if quick else None)
    if split:
        os.environ.update(asyncio.run(split_environment()))
    with tempfile.TemporaryDirectory(prefix="jiyue-import-") as tmp:
        data_dir, bundle = Path(tmp) / "var", Path(tmp) / "bundle"
        total = write_bundle(bundle, limit)
        asyncio.run(prepare(data_dir))
        # Byte-code cached outside the tree: this machine sets PYTHONDONTWRITEBYTECODE, and
        # compiling every module on each start costs ~15 s of CPU that a deployment never pays.
        pycache = Path.home() / ".cache" / "jiyue" / "pycache"
        env = {**os.environ, "JIYUE_DATA_DIR": str(data_dir), "PYTHONPYCACHEPREFIX": str(pycache)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if arenas:
            env["MALLOC_ARENA_MAX"] = str(arenas)
        command = [sys.executable, "-m", "gateway.cli", "import", str(bundle), "--site", PORTAL.code,
                   "--approve-migration", "--no-migrate"]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        rss, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        if done.returncode != 0:
            raise RuntimeError(f"jiyue import failed ({done.returncode}): {done.stderr[-2000:]}")
        failed = sum(1 for line in done.stdout.splitlines() if line.strip().startswith("第 "))
        published, searchable = asyncio.run(count(data_dir))
        if keep:  # for a look at what the import left (dead letters, the index) afterwards
            shutil.copytree(tmp, keep, dirs_exist_ok=True)
    rate = published / wall
    lost = total - published - failed
    return [
        {
            "name": f"jiyue import of {total} corpus texts ({'split mode' if split else 'embedded'})"
            + (f", MALLOC_ARENA_MAX={arenas}" if arenas else ""),
            "n": published,
            "throughput": round(rate, 1),
            "unit": "published/s",
            "peak_rss_mb": round(rss, 1),
            "target": "≥ 150/s" if split else "≥ 100/s, ≤ 400 MB",
            "met": rate >= (150 if split else 100)
            and (split or rss <= 400)
            and lost == 0
            and searchable >= published,
            "command": " ".join([".venv/bin/python -m bench.import_corpus", *sys.argv[1:]]),
            "note": (
                f"wall {wall:.1f}s incl. start-up and index catch-up; CPU {cpu:.1f}s "
                f"({published / cpu:.1f} published per CPU-second); load average {os.getloadavg()[0]:.1f} on "
                f"{os.cpu_count()} cores; failed {failed}, lost {lost}, "
                f"searchable {searchable}; {rate / WAGTAIL_ANCHOR:.1f}× the Wagtail anchor's {WAGTAIL_ANCHOR:.0f} pages/s"
            ),
        }
    ]


if __name__ == "__main__":

    def option(name: str) -> int | None:
        return next((int(a.split("=", 1)[1]) for a in sys.argv if a.startswith(f"--{name}=")), None)

    keep = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--keep=")), None)
    split = "--split" in sys.argv
    print_table(run("--quick" in sys.argv, option("limit"), split=split, arenas=option("arenas"), keep=keep))
