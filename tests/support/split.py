"""The platform in split mode: every service and the gateway its own process, for real.

Used by the integration tier: each process is `jiyue serve <service>` on a free loopback port,
on PostgreSQL / Elasticsearch / MinIO, and can be killed and restarted by a test.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services import registry

JIYUE = str(Path(sys.executable).parent / "jiyue")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            resp = httpx.get(url, timeout=1.0)
            if resp.status_code == 200:
                return
            last = f"{resp.status_code} {resp.text[:200]}"
        except httpx.TransportError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s: {last}")


@dataclass
class SplitPlatform:
    data_dir: Path
    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def configure(cls, data_dir: Path, **settings: str) -> SplitPlatform:
        ports = {s.name: free_port() for s in registry.SERVICES}
        ports["gateway"] = free_port()
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items() if name != "gateway"}
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("JIYUE_") or k.startswith("JIYUE_TEST_")
        }
        env.update(
            {
                "JIYUE_DATA_DIR": str(data_dir),
                "JIYUE_PUBLIC_URL": f"http://127.0.0.1:{ports['gateway']}",
                "JIYUE_SERVICE_URLS": json.dumps(urls),
                "JIYUE_GATEWAY_BACKENDS": json.dumps(urls),
                "JIYUE_INTERNAL_CLIENT_SECRET": secrets.token_urlsafe(32),
                "JIYUE_ADMIN_PASSWORD": "Split-Admin-2026",
                "JIYUE_FEED_POLL_SECONDS": "0.2",
            }
        )
        env.update({f"JIYUE_{k.upper()}": v for k, v in settings.items()})
        return cls(data_dir=data_dir, env=env, ports=ports)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def migrate(self) -> None:
        subprocess.run([JIYUE, "migrate"], env=self.env, cwd=ROOT, check=True, capture_output=True)

    def start(self, name: str, timeout: float = 60.0, extra_env: dict[str, str] | None = None) -> None:
        args = [JIYUE, "serve"] + ([] if name == "gateway" else [name])
        args += ["--host", "127.0.0.1", "--port", str(self.ports[name]), "--no-migrate"]
        log = self.data_dir / f"{name}.log"
        self.logs[name] = log
        fh = log.open("ab")
        proc = subprocess.Popen(args, env={**self.env, **(extra_env or {})}, cwd=ROOT, stdout=fh, stderr=fh)
        self.procs[name] = proc
        wait_http(f"{self.url(name)}/healthz", timeout, proc)

    def start_all(self) -> None:
        self.migrate()
        for spec in registry.SERVICES:  # identity first: the others fetch its JWKS
            self.start(spec.name)
        self.start("gateway")

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs.get(name)
        if not path or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
