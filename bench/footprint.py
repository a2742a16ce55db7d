"""All-in-one start time and memory: `jiyue serve` on a data folder seeded with the demo."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from bench.common import Row

ROOT = Path(__file__).resolve().parents[1]
JIYUE = str(Path(sys.executable).parent / "jiyue")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(data_dir: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([JIYUE, "demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure_start(env: dict[str, str], timeout: float = 60.0) -> tuple[float, float, float]:
    """Seconds to /healthz, seconds to /readyz 200, and RSS (MB) after a few requests."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [JIYUE, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    healthy = ready = float("nan")
    try:
        with httpx.Client(base_url=base, timeout=2) as client:
            while time.perf_counter() - started < timeout:
                try:
                    if client.get("/healthz").status_code == 200:
                        healthy = time.perf_counter() - started
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            while time.perf_counter() - started < timeout:
                if client.get("/readyz").status_code == 200:
                    ready = time.perf_counter() - started
                    break
                time.sleep(0.1)
            for path in (
                "/sites/sfs/api/content/v1/site",
                "/sites/sfs/api/content/v1/columns",
                "/sites/sfs/api/search/v1/search?q=政务",
            ):
                for _ in range(20):
                    client.get(path)
        rss = psutil.Process(proc.pid).memory_info().rss / 1024 / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return healthy, ready, rss


def run(quick: bool = False) -> list[Row]:
    data_dir = Path(tempfile.mkdtemp(prefix="jiyue-footprint-"))
    env = {**os.environ, "JIYUE_DATA_DIR": str(data_dir), "JIYUE_ADMIN_PASSWORD": "Bench-Admin-2026"}
    try:
        seeded = seed(data_dir, env)
        healthy, ready, rss = measure_start(env)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    cmd = "python -m bench footprint"
    return [
        {"name": "demo seed (jiyue demo)", "n": 1, "median_ms": round(seeded * 1000), "command": cmd},
        {
            "name": "start → /healthz",
            "n": 1,
            "median_ms": round(healthy * 1000),
            "target": "≤ 5 s",
            "met": healthy <= 5.0,
            "command": cmd,
        },
        {"name": "start → /readyz ready", "n": 1, "median_ms": round(ready * 1000), "command": cmd},
        {
            "name": "all-in-one RSS after warm-up",
            "peak_rss_mb": round(rss, 1),
            "target": "≤ 400 MB",
            "met": rss <= 400,
            "command": cmd,
        },
    ]


if __name__ == "__main__":
    from bench.common import print_table

    print_table(run())
