"""`jiyue serve` for real: dual-stack on `::`, and two instances side by side."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.gateway.servers import ipv6_loopback
from tests.support.split import JIYUE, ROOT, free_port, wait_http


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_two_instances_side_by_side_each_dual_stack(tmp_path: Path) -> None:
    procs = []
    try:
        ports = []
        for name in ("a", "b"):
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("JIYUE_")}
            env.update({"JIYUE_DATA_DIR": str(tmp_path / name), "JIYUE_ADMIN_PASSWORD": "Side-By-Side-1"})
            log = (tmp_path / f"{name}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [JIYUE, "serve", "--host", "::", "--port", str(port)],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            ports.append(port)
        for proc, port in zip(procs, ports, strict=True):
            wait_http(f"http://127.0.0.1:{port}/healthz", 90, proc)
            assert httpx.get(f"http://[::1]:{port}/healthz", timeout=5).status_code == 200
            assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200
        assert (tmp_path / "a" / "identity.db").exists() and (tmp_path / "b" / "identity.db").exists()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)
