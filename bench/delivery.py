"""Public delivery and search through the gateway on a real uvicorn, loaded with wrk.

Each server is its own process (one uvicorn worker, `jiyue serve` defaults) on loopback; wrk
runs 32 connections. Rows: the ceiling (a bare FastAPI endpoint returning the same document
from memory), then an item, a column list and a search through the gateway, with its cache on
and off, and with ETag revalidation (If-None-Match → 304).

Two sets of rows. "stand-in": the services behind the gateway are built with the kernel's
service factory and answer prepared documents (bench/gateway.py), so they measure the door
alone. "platform": `jiyue serve` (all services in one process, SQLite, tantivy) on a data
folder seeded by `jiyue demo`, with a real published item, column list and search; full mode
only, since seeding takes about a minute and a half (or set JIYUE_BENCH_DEMO_DIR to a folder
already seeded). Rate limits stay on but sized so one flooding client passes.

wrk is the Debian package `wrk`; when it is missing the benchmark tries `apt-get install -y
wrk` (as root) and otherwise reports a skipped row saying so.

    .venv/bin/python -m bench.delivery [--quick]
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bench.common import Row
from bench.gateway import bench_gateway, documents, quiet_access_log
from gateway.server import serve as run_server

ROOT = Path(__file__).resolve().parents[1]
HOST = "jtj.example.gov.cn"
CONNECTIONS = 32
TARGET_RPS = 2000.0
COMMAND = ".venv/bin/python -m bench.delivery"


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "wrk"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )
    return shutil.which("wrk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server side (a child process) ------------------------------------------------


def bare_app() -> Any:
    item = documents()["item"]
    app = FastAPI()

    @app.get("/api/content/v1/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, Any]:
        return item  # type: ignore[no-any-return]

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


class WithServiceLifespans:
    """The gateway app, starting only its in-process services (it has no registry to follow)."""

    def __init__(self, app: Any, services: list[Any]) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        async with contextlib.AsyncExitStack() as stack:
            await receive()
            for service in self.services:
                await stack.enter_async_context(service.router.lifespan_context(service))
            await send({"type": "lifespan.startup.complete"})
            await receive()
        await send({"type": "lifespan.shutdown.complete"})


def serve(kind: str, port: int, data_dir: str) -> None:
    if kind == "bare":
        app: Any = bare_app()
    else:
        gateway_app, content, search = bench_gateway(Path(data_dir), cache=kind == "gateway-cache")
        quiet_access_log()
        app = WithServiceLifespans(gateway_app, [content, search])
    run_server(app, "127.0.0.1", port, log_level="warning")


# -- the load side --------------------------------------------------------------------


@contextlib.contextmanager
def server(kind: str, data_dir: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.delivery", "--serve", kind, str(port), str(data_dir / kind)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{kind} server did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    binary: str, url: str, seconds: int, headers: dict[str, str], script: Path | None = None
) -> dict[str, float]:
    args = [binary, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"\n\s+50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"\n\s+99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return result


def warm_up(base: str, paths: list[str], host: str = HOST, rounds: int = 200) -> None:
    with httpx.Client(base_url=base, headers={"Host": host}) as client:
        for _ in range(rounds):
            for path in paths:
                client.get(path).raise_for_status()


def row(name: str, measured: dict[str, float], command: str, *, target: bool, note: str) -> Row:
    out: Row = {
        "name": name,
        "n": int(measured["requests"]),
        "median_ms": round(measured["p50"], 3),
        "p99_ms": round(measured["p99"], 3),
        "throughput": round(measured["rps"], 1),
        "unit": "req/s",
        "command": command,
        "note": note + (f"; {int(measured['non_2xx'])} non-2xx/3xx" if measured["non_2xx"] else ""),
    }
    if target:
        out["target"] = f"≥ {TARGET_RPS:.0f} req/s"
        out["met"] = measured["rps"] >= TARGET_RPS and not measured["non_2xx"]
    return out


JIYUE = str(Path(sys.executable).parent / "jiyue")
PORTAL_HOST = "www.sfs.gov.cn"


def platform_env(data_dir: Path, cache: bool) -> dict[str, str]:
    return {
        **os.environ,
        "JIYUE_DATA_DIR": str(data_dir),
        "JIYUE_GATEWAY_CACHE": "true" if cache else "false",
        "JIYUE_GATEWAY_RATE_ADDRESS_PER_SECOND": "1e9",
        "JIYUE_GATEWAY_RATE_ADDRESS_BURST": "1e9",
        "JIYUE_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def platform_server(
    data_dir: Path, cache: bool, *, migrate: bool = False, started: list[Any] | None = None
) -> Iterator[str]:
    """`started`, when given, receives the server's process (to read its CPU time)."""
    port = free_port()
    proc = subprocess.Popen(
        [JIYUE, "serve", "--port", str(port)] + ([] if migrate else ["--no-migrate"]),
        cwd=ROOT,
        env=platform_env(data_dir, cache),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if started is not None:
        started.append(proc)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + (600 if migrate else 60)
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("jiyue serve did not become ready")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def discover(base: str) -> tuple[str, str, str]:
    """A published item, a column list with items, and a search with hits on the demo portal."""
    with httpx.Client(base_url=base, headers={"Host": PORTAL_HOST}, timeout=10) as client:
        for column in client.get("/api/content/v1/columns").raise_for_status().json()["items"]:
            listing = f"/api/content/v1/columns/{column['id']}/items"
            page = client.get(listing).json()
            if page.get("total"):
                item = f"/api/content/v1/items/{page['items'][0]['id']}"
                break
        else:
            raise RuntimeError("the demo portal has no published item")
        search = "/api/search/v1/search?q=%E6%94%BF%E5%BA%9C"  # 政府
        deadline = time.monotonic() + 30
        while not client.get(search).json().get("total"):
            if time.monotonic() > deadline:
                raise RuntimeError("search has no hits for 政府 on the demo portal")
            time.sleep(0.5)
    return item, listing, search


def platform_rows(binary: str, seconds: int, command: str) -> list[Row]:
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        given = os.environ.get("JIYUE_BENCH_DEMO_DIR")
        if given:
            data_dir = Path(given)
        else:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-delivery-demo-")))
            env = platform_env(data_dir, True)
            subprocess.run([JIYUE, "demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        host = {"Host": PORTAL_HOST}
        note = f"jiyue serve on the demo data (SQLite, tantivy), {CONNECTIONS} connections, wrk -t2, loopback"
        for cache, label in ((True, "cache on"), (False, "cache off")):
            with platform_server(data_dir, cache) as base:
                item, listing, search = discover(base)
                etag = httpx.get(base + item, headers=host).headers["etag"]
                warm_up(base, [item, listing, search], host=PORTAL_HOST, rounds=50)
                cases = [
                    ("item", item, {}),
                    ("item, If-None-Match → 304", item, {"If-None-Match": etag}),
                    ("column list", listing, {}),
                    ("search 政府", search, {}),
                ]
                for what, path, extra in cases:
                    measured = wrk(binary, base + path, seconds, {**host, **extra})
                    rows.append(row(f"platform ({label}): {what}", measured, command, target=True, note=note))
    return rows


def run(quick: bool = False) -> list[Row]:
    binary = ensure_wrk()
    command = COMMAND + (" --quick" if quick else "")
    if binary is None:
        reason = "wrk not installed and could not be installed (apt-get install -y wrk, as root)"
        return [
            {"name": "delivery through the gateway (wrk)", "note": "SKIPPED: " + reason, "command": command}
        ]
    seconds = 1 if quick else 10
    host = {"Host": HOST}
    item, listing = "/api/content/v1/items/1", "/api/content/v1/columns/3/items"
    search = "/api/search/v1/search?q=%E9%9B%86%E7%BA%A6%E5%8C%96"
    rows: list[Row] = []
    base_note = f"{CONNECTIONS} connections, wrk -t2, one uvicorn worker, loopback"
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        with server("bare", Path(tmp)) as base:
            warm_up(base, [item])
            rows.append(row("ceiling: bare FastAPI, item from memory", wrk(binary, base + item, seconds, host),
                            command, target=False, note=base_note))  # fmt: skip
        for kind, label in (("gateway-cache", "cache on"), ("gateway-nocache", "cache off")):
            with server(kind, Path(tmp)) as base:
                etag = httpx.get(base + item, headers=host).headers["etag"]
                warm_up(base, [item, listing, search])
                cases = [("item", item, {}), ("item, If-None-Match → 304", item, {"If-None-Match": etag})]
                if kind == "gateway-cache":
                    cases += [("column list", listing, {}), ("search", search, {})]
                for what, path, extra in cases:
                    measured = wrk(binary, base + path, seconds, {**host, **extra})
                    rows.append(
                        row(f"gateway ({label}): {what}", measured, command, target=True, note=base_note)
                    )
    if quick:
        rows.append({"name": "platform (demo data)", "note": "SKIPPED in quick mode (seeding takes ~90 s)"})
    else:
        rows += platform_rows(binary, seconds, command)
    return rows


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        from bench.common import print_table

        print_table(run(quick="--quick" in sys.argv))
