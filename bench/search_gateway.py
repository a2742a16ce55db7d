"""Uncached search through the gateway on the imported legal corpus, loaded with wrk.

`python -m bench search_gateway [--quick]` (issue 14's speed criterion: ≥ 1,000 req/s with
p99 ≤ 100 ms, 32 connections, one process). The data folder is `jiyue demo --corpus` (the
whole corpus; quick imports 300 texts), built once and kept under ~/.cache/jiyue/bench keyed
by the code that decides what it holds (the importer, content's and resources' code, every
migration), so a rerun only migrates it and lets search catch up. `jiyue serve` runs all
services in one process with the gateway's response cache off, and every wrk request draws a
random broad query and a random page of its hits (a Lua script), so no cache of any layer
answers twice for the same thing by design.

Set JIYUE_BENCH_SEARCH_DATA to serve another prepared data folder (e.g. a copy for an
A/B run against an older checkout), JIYUE_BENCH_CORPUS to name the corpus elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil

from bench.common import CORPUS, Row, print_table
from bench.delivery import CONNECTIONS, JIYUE, PORTAL_HOST, ROOT, ensure_wrk, platform_server, row, wrk

CMD = "python -m bench search_gateway"
CACHE = Path.home() / ".cache" / "jiyue" / "bench"
CORPUS = Path(os.environ.get("JIYUE_BENCH_CORPUS") or CORPUS)
TARGET_RPS, TARGET_P99 = 1000.0, 100.0
# Words most of the corpus's texts hold: every query is a broad one with many pages.
BROAD = [
    "政府", "管理", "规定", "国家", "人民", "工作", "行政", "部门", "法律", "条例", "办法", "国务院",
    "社会", "安全", "经济", "组织", "责任", "监督", "服务", "信息", "保护", "发展", "企业", "公共",
]  # fmt: skip
PAGES = 10
# What decides the imported data; search's own code is not in it (serving catches search up).
KEYED = ["gateway/demo", "services/content", "services/resources", "services/identity"]


def folder_key(limit: int | None) -> str:
    digest = hashlib.sha256(f"{CORPUS.name}|{limit}".encode())
    for name in KEYED:
        for path in sorted((ROOT / name).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    for path in sorted(ROOT.glob("services/*/migrations/versions/*.py")):
        digest.update(path.name.encode())
    return digest.hexdigest()[:12]


def build(folder: Path, limit: int | None) -> None:
    staging = folder.with_name(folder.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = {**os.environ, "JIYUE_DATA_DIR": str(staging), "JIYUE_ADMIN_PASSWORD": "Bench-Admin-2026"}
    args = [JIYUE, "demo", "--corpus", str(CORPUS)] + (["--corpus-limit", str(limit)] if limit else [])
    for _ in range(3):  # idempotent; a text refused once is imported by the next run
        out = subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
        if "失败 0 篇" in out or "新增 0 篇" in out:  # done, or what is left is refused for good
            break
    staging.rename(folder)


def dirty_rows(folder: Path) -> int:
    """Recorded documents search has not yet written to its engine (read beside the server)."""
    with sqlite3.connect(f"file:{folder / 'search.db'}?mode=ro", uri=True, timeout=30) as db:
        return int(db.execute("SELECT count(*) FROM search_document WHERE dirty").fetchone()[0])


def wait_indexed(base: str, folder: Path, timeout: float = 3600.0) -> int:
    """Until search's feed lag is zero and every recorded document is in the engine; the
    number of texts that match 法 then."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, headers={"Host": PORTAL_HOST}, timeout=60) as client:
        while time.monotonic() < deadline:
            try:
                checks = client.get("/readyz").json().get("services", {}).get("search", {}).get("checks", {})
            except (httpx.TransportError, ValueError):
                checks = {}
            feed = checks.get("feed:search-publications") or {}
            if feed.get("head") and feed.get("lag") == 0 and dirty_rows(folder) == 0:
                return int(client.get("/api/search/v1/search", params={"q": "法"}).json()["total"])
            time.sleep(5)
    raise RuntimeError("search did not catch up with content's feed")


def settle(base: str, timeout: float = 600.0) -> int:
    """Until every service's feed consumers have caught up (a consumer still reading a fresh
    folder's history would be measured with the searches); how many events are left behind."""
    deadline = time.monotonic() + timeout
    behind = -1
    with httpx.Client(base_url=base, headers={"Host": PORTAL_HOST}, timeout=60) as client:
        while time.monotonic() < deadline:
            try:
                services = client.get("/readyz").json().get("services", {})
            except (httpx.TransportError, ValueError):
                services = {}
            behind = sum(
                int(check.get("lag") or 0)
                for service in services.values()
                for name, check in service.get("checks", {}).items()
                if name.startswith("feed:")
            )
            if services and behind == 0:
                return 0
            time.sleep(5)
    return behind


def idle_cpu(server: psutil.Process, seconds: float = 10.0) -> float:
    """The server's CPU share while nobody asks it anything (its background work)."""
    before = server.cpu_times()
    time.sleep(seconds)
    after = server.cpu_times()
    return (after.user - before.user + after.system - before.system) / seconds


def paths(base: str, rng: random.Random, size: int = 20) -> list[str]:
    """Every (broad query, page) pair that has hits on the portal, shuffled."""
    out = []
    with httpx.Client(base_url=base, headers={"Host": PORTAL_HOST}, timeout=30) as client:
        for q in BROAD:
            total = client.get("/api/search/v1/search", params={"q": q, "size": 1}).json()["total"]
            pages = min(PAGES, -(-total // size))
            out += [f"/api/search/v1/search?q={quote(q)}&page={p}&size={size}" for p in range(1, pages + 1)]
    rng.shuffle(out)
    return out


def lua_script(folder: Path, urls: list[str]) -> Path:
    script = folder / "random-search.lua"
    table = ",\n".join(f'  "{u}"' for u in urls)
    script.write_text(
        f"local paths = {{\n{table}\n}}\n"
        "math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))\n"
        "request = function()\n"
        "  return wrk.format('GET', paths[math.random(#paths)])\n"
        "end\n"
    )
    return script


def run(quick: bool = False) -> list[Row]:
    binary = ensure_wrk()
    command = CMD + (" --quick" if quick else "")
    if binary is None:
        return [{"name": "search through the gateway", "note": "SKIPPED: wrk missing", "command": command}]
    if not CORPUS.exists():
        return [{"name": "search through the gateway", "note": f"SKIPPED: no corpus at {CORPUS}"}]
    limit = 300 if quick else None
    given = os.environ.get("JIYUE_BENCH_SEARCH_DATA")
    folder = Path(given) if given else CACHE / f"search-gateway-{folder_key(limit)}"
    if not folder.exists():
        build(folder, limit)
    seconds = 5 if quick else int(os.environ.get("JIYUE_BENCH_SECONDS", "20"))
    with tempfile.TemporaryDirectory(prefix="bench-search-gw-") as tmp:
        started: list[subprocess.Popen[bytes]] = []
        with platform_server(folder, cache=False, migrate=True, started=started) as base:
            indexed = wait_indexed(base, folder)
            behind = settle(base)
            urls = paths(base, random.Random(14))
            script = lua_script(Path(tmp), urls)
            with httpx.Client(base_url=base, headers={"Host": PORTAL_HOST}, timeout=30) as client:
                for url in urls[:100]:  # warm-up: dictionaries, engine caches, connections
                    client.get(url).raise_for_status()
            server = psutil.Process(started[0].pid)
            idle = idle_cpu(server)
            cpu_before = server.cpu_times()
            measured = wrk(binary, base + "/", seconds, {"Host": PORTAL_HOST}, script=script)
            cpu_after = server.cpu_times()
    # CPU time the server spent per answer: what a shared machine's share does not distort
    cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    per_cpu_second = measured["requests"] / cpu if cpu else float("nan")
    out = row(
        "search through the gateway, random broad query × random page (cache off)",
        measured,
        command,
        target=False,
        note=f"jiyue serve, one process, gateway cache off, {CONNECTIONS} connections, wrk -t2, {seconds} s; "
        f"{len(urls)} query×page pairs of {len(BROAD)} broad words, 20 hits a page; "
        f"{indexed} texts match 法; server idle {100 * idle:.0f} % CPU before the load "
        f"({behind} feed events behind); server CPU {cpu:.1f} s = {per_cpu_second:.0f} answers per CPU-second; "
        f"load average after {os.getloadavg()[0]:.1f}",
    )
    out["target"] = f"≥ {TARGET_RPS:.0f} req/s, p99 ≤ {TARGET_P99:.0f} ms"
    out["met"] = measured["rps"] >= TARGET_RPS and measured["p99"] <= TARGET_P99 and not measured["non_2xx"]
    return [out]


if __name__ == "__main__":
    print_table(run(quick="--quick" in sys.argv))
