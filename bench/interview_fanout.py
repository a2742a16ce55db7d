"""An interview's live stream fanned out to 1,000 SSE readers on loopback.

One server process (the gateway with every service in it, uvicorn, the embedded defaults)
and reader processes of asyncio httpx streams. The controller schedules an interview, collects
questions, starts it, connects the readers, then approves the questions one by one: fan-out
latency is the time from sending each approval to each reader receiving that event (wall clock,
one machine), over every reader and message. Then it ends the interview, which closes every
stream, and checks that every reader got every event once, in order. Memory: the server's RSS
after the readers connected minus before, per reader.

People's tokens come from a bench-local ES256 issuer and the staff lookup is a stand-in (as in
the tests): identity is not what is measured here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jwt

from bench.common import Row, percentile, print_table
from gateway import migrate
from gateway.app import create_gateway
from gateway.server import serve as run_server
from gateway.settings import GatewaySettings
from gateway.tenancy import SiteEntry
from services.interaction.service.staff import StaffAccount
from services.interaction.service.throttle import Throttle
from services.kernel.auth import TokenVerifier

ROOT = Path(__file__).resolve().parents[1]
SITE = "bench"
ISSUER = "http://127.0.0.1"
READER_PROCESSES = 2
TARGET_MS = 1000.0
# Seconds between approvals: a moderator's pace, then a burst of ten a second.
PACES = (1.0, 0.1)


# -- tokens -----------------------------------------------------------------------------


def new_key(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)


def _public_jwks(pem: bytes) -> dict[str, Any]:
    key = serialization.load_pem_private_key(pem, password=None)
    public = key.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_dict = {
        k: (v.decode() if isinstance(v, bytes) else v)
        for k, v in jwk.construct(public, "ES256").to_dict().items()
    }
    return {"keys": [{**jwk_dict, "kid": "bench", "alg": "ES256", "use": "sig"}]}


def token(pem: bytes, sub: str, roles: list[tuple[str, str | None]]) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": "jiyue", "sub": sub, "iat": now, "exp": now + 3600, "jti": uuid.uuid4().hex,
        "kind": "user", "name": sub, "scope": "", "roles": [{"role": r, "site": s} for r, s in roles],
    }  # fmt: skip
    signed = jwt.encode(claims, pem.decode(), algorithm="ES256", headers={"kid": "bench"})
    return {"Authorization": f"Bearer {signed}"}


# -- the server process -----------------------------------------------------------------


def serve(port: int, data_dir: str, key_file: str) -> None:
    settings = GatewaySettings(
        data_dir=Path(data_dir), public_url=ISSUER, gateway_rate_limits=False, gateway_access_log=False
    )
    asyncio.run(migrate.migrate(data_dir=settings.data_dir, public_url=ISSUER))
    app = create_gateway(settings)
    gw = app.gateway
    jwks = _public_jwks(Path(key_file).read_bytes())

    async def fetch() -> dict[str, Any]:
        return jwks

    staff = {
        1: StaffAccount(1, "主持人", True, (("editor", SITE),)),
        2: StaffAccount(2, "嘉宾", True, (("editor", SITE),)),
    }

    async def lookup(user_id: int) -> StaffAccount | None:
        return staff.get(user_id)

    gw.guard.verifier = TokenVerifier(fetch, issuer=ISSUER, audience="jiyue")
    ctx = gw.local_apps["interaction"].state.ctx
    ctx.verifier = TokenVerifier(fetch, issuer=ISSUER, audience="jiyue")
    ctx.state.interviews.staff = lookup
    ctx.state.interviews.throttle = Throttle(100_000, 100_000)

    async def with_site(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def started(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete":
                gw.sites.replace([*gw.sites.by_code.values(), SiteEntry(code=SITE, name="压测站")])
            await send(message)

        await app(scope, receive, started)

    run_server(with_site, "127.0.0.1", port, log_level="warning")


# -- the reader processes ---------------------------------------------------------------


async def _reader(client: httpx.AsyncClient, url: str, ready: list[int], got: list[list[float]]) -> None:
    events: list[list[float]] = []
    got.append(events)  # type: ignore[arg-type]
    async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as resp:
        resp.raise_for_status()
        ready.append(1)
        buffer = b""
        async for chunk in resp.aiter_raw():
            now = time.time()
            buffer += chunk
            *blocks, buffer = buffer.split(b"\n\n")
            for block in blocks:
                for line in block.split(b"\n"):
                    if line.startswith(b"id: "):
                        events.append([int(line[4:]), now])


async def read(url: str, count: int, out: str) -> None:
    ready: list[int] = []
    got: list[list[float]] = []
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=count + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120, connect=30), limits=limits) as client:
        tasks = [asyncio.create_task(_reader(client, url, ready, got)) for _ in range(count)]
        async with asyncio.timeout(60):
            while len(ready) < count:  # noqa: ASYNC110 - counting tasks of this loop
                await asyncio.sleep(0.05)
        print("ready", flush=True)
        done, pending = await asyncio.wait(tasks, timeout=120)
        errors = [repr(t.exception()) for t in done if t.exception() is not None]
        for t in pending:
            t.cancel()
    report = json.dumps({"readers": got, "errors": errors, "unfinished": len(pending)})
    await asyncio.to_thread(Path(out).write_text, report)


# -- the controller ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _process(args: list[str], **kw: Any) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.interview_fanout", *args], cwd=ROOT, text=True, **kw
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_up(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 300  # migrations and start-up, on a shared machine
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the bench server did not start")


def _rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def run(quick: bool = False) -> list[Row]:
    readers = 200 if quick else 1000
    messages = 10 if quick else 40
    with tempfile.TemporaryDirectory(prefix="jiyue-fanout-") as tmp:
        key = Path(tmp) / "bench-key.pem"
        new_key(key)
        pem = key.read_bytes()
        port = _free_port()
        base = f"http://127.0.0.1:{port}/sites/{SITE}/api/interaction/v1"
        with _process(["--serve", str(port), str(Path(tmp) / "data"), str(key)],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:  # fmt: skip
            _wait_up(f"http://127.0.0.1:{port}", server)
            return _measure(server, base, pem, readers, messages, Path(tmp))


def _measure(
    server: subprocess.Popen[str], base: str, pem: bytes, readers: int, messages: int, tmp: Path
) -> list[Row]:
    host = token(pem, "1", [("editor", SITE)])
    citizen = token(pem, "c1", [("citizen", None)])
    start = time.time() + 3600
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))  # noqa: E731
    with httpx.Client(base_url=base, timeout=30) as client:
        body = {"title": "压测访谈", "starts_at": iso(start), "ends_at": iso(start + timedelta(hours=2).total_seconds()),
                "host": {"user_id": 1}, "guests": [{"user_id": 2}]}  # fmt: skip
        created = client.post("/interviews", json=body, headers=host)
        created.raise_for_status()
        iid = created.json()["id"]
        questions = []
        for i in range(messages):
            r = client.post(
                f"/interviews/{iid}/questions",
                json={"text": f"第{i}个问题：线路{i}能否加密？"},
                headers=citizen,
            )
            r.raise_for_status()
            questions.append(r.json()["id"])
        client.post(f"/interviews/{iid}/start", headers=host).raise_for_status()
        time.sleep(1)
        before = _rss(server.pid)
        share = [
            readers // READER_PROCESSES + (i < readers % READER_PROCESSES) for i in range(READER_PROCESSES)
        ]
        outs = [tmp / f"readers-{i}.json" for i in range(READER_PROCESSES)]
        stream = f"{base}/public/interviews/{iid}/stream"
        with contextlib.ExitStack() as stack:
            procs = [
                stack.enter_context(_process(["--read", stream, str(n), str(out)], stdout=subprocess.PIPE))
                for n, out in zip(share, outs, strict=True)
            ]
            for proc in procs:
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise RuntimeError("a reader process failed to connect its readers")
            time.sleep(1)
            after = _rss(server.pid)
            phases: list[tuple[float, dict[int, float]]] = [(pace, {}) for pace in PACES]
            half = len(questions) // len(PACES)
            load = os.getloadavg()[0]
            cpu_before = psutil.Process(server.pid).cpu_times()
            for i, (pace, sent) in enumerate(phases):
                for qid in questions[i * half : (i + 1) * half]:
                    t0 = time.time()
                    r = client.post(f"/interviews/{iid}/questions/{qid}/approve", headers=host)
                    r.raise_for_status()
                    sent[int(r.json()["event_id"])] = t0
                    time.sleep(pace)
                time.sleep(2)  # let the first phase drain before the next begins
            load = max(load, os.getloadavg()[0])
            cpu_after = psutil.Process(server.pid).cpu_times()
            client.post(f"/interviews/{iid}/end", headers=host).raise_for_status()
            for proc in procs:
                proc.wait(150)
    results = [json.loads(out.read_text()) for out in outs]
    streams = [r for res in results for r in res["readers"]]
    expected = list(range(1, messages + 3))  # live, the approvals, ended
    complete = sum(1 for events in streams if [e[0] for e in events] == expected)
    errors = [e for res in results for e in res["errors"]]
    growth_kib = (after - before) / 1024 / readers
    delivered = sum(len(sent) for _, sent in phases) * readers
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    # CPU the server spent per delivered event while approving (approvals, their commits and
    # heartbeats included): what a dedicated core would need, whatever else shares the machine.
    cpu_us = cpu / delivered * 1e6 if delivered else float("nan")
    rows: list[Row] = []
    for pace, sent in phases:
        ms = [(t - sent[seq]) * 1000 for events in streams for seq, t in events if seq in sent]
        worst = max(ms) if ms else float("nan")
        note = (
            f"{complete}/{readers} readers got all {len(expected)} events once and in order; max {worst:.1f} ms; "
            f"server RSS {before / 2**20:.1f} → {after / 2**20:.1f} MiB with the readers connected "
            f"({growth_kib:.1f} KiB per reader); server CPU {cpu_us:.0f} µs per delivered event "
            f"({cpu_us * readers / 1000:.0f} ms of CPU per approval to {readers} readers); "
            f"{len(errors)} reader errors; 2 cores shared with other "
            f"work (1-min load average up to {load:.1f}), {READER_PROCESSES} reader processes on the same machine"
        )
        rows.append(
            {
                "name": f"interview fan-out: {readers} SSE readers, {len(sent)} approvals {1 / pace:g}/s",
                "n": len(ms),
                "median_ms": round(percentile(ms, 0.5), 1),
                "p95_ms": round(percentile(ms, 0.95), 1),
                "p99_ms": round(percentile(ms, 0.99), 1),
                "peak_rss_mb": round(after / 2**20, 1),
                "target": "every reader, every event, in order, ≤ 1 s after approval",
                "met": complete == readers and len(ms) == readers * len(sent) and worst <= TARGET_MS,
                "note": note,
                "command": "python -m bench interview_fanout",
            }
        )
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif sys.argv[1:2] == ["--read"]:
        asyncio.run(read(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    else:
        print_table(run(quick="--quick" in sys.argv))
        os._exit(0)
