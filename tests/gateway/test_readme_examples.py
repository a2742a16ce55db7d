"""Every `curl` example of README.md, as pasted, against a live demo server on loopback.

The server is `jiyue serve --demo` for real (uvicorn, its HTTP parser and all): the examples
send what a shell sends, e.g. raw UTF-8 in a query string, which an in-process client never
would. Only the port is changed (and the placeholder password filled in from
demo-accounts.json); curl runs with --fail-with-body, so any answer >= 400 fails the example.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.split import JIYUE, ROOT, free_port, wait_http

README = ROOT / "README.md"
PLACEHOLDER = "…from demo-accounts.json…"
PREAMBLE = """set -euo pipefail
curl() { command curl --fail-with-body --silent --show-error --max-time 60 "$@"; }
trap 'echo "FAILED: $BASH_COMMAND" >&2' ERR
"""


def readme_commands() -> list[str]:
    """The shell commands of README's code blocks that call curl, continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#") and re.search(r"(^|\$\()curl ", line):
                commands.append(line)
    return commands


def wait_for(path: Path, seconds: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"demo server exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} not written within {seconds}s")
        time.sleep(0.5)


@pytest.mark.timeout(600)
def test_every_readme_curl_example_answers_as_pasted(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    commands = readme_commands()
    assert any("search?q=政务公开" in c for c in commands), "README's search example moved"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIYUE_")}
    env.update({"JIYUE_DATA_DIR": str(tmp_path / "var"), "JIYUE_ADMIN_PASSWORD": "Readme-Admin-2026"})
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [JIYUE, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", 180, proc)
        accounts_file = tmp_path / "var" / "demo-accounts.json"
        wait_for(accounts_file, 300, proc)
        accounts = {a["username"]: a["password"] for a in json.loads(accounts_file.read_text("utf-8"))}
        lines = []
        for command in commands:
            line = command.replace("localhost:8000", f"localhost:{port}")
            if PLACEHOLDER in line:
                user = re.search(r"username=(\S+)", line)
                assert user is not None and user.group(1) in accounts, command
                line = line.replace(PLACEHOLDER, accounts[user.group(1)])
            lines.append(line)
        # one shell, in README's order: TOKEN=$(curl …) is then used by the next example
        done = subprocess.run(
            ["bash", "-c", PREAMBLE + "\n".join(lines)],
            capture_output=True,
            timeout=300,
            cwd=tmp_path,
            env=env,
        )
        out = done.stdout.decode("utf-8", "replace")
        err = done.stderr.decode("utf-8", "replace")
        assert done.returncode == 0, f"a README example failed:\n{err}\n{out[-1500:]}"
        assert "Invalid HTTP request" not in out
        # the raw-UTF-8 query was served as its percent-encoded form would be
        encoded = httpx.get(
            f"http://127.0.0.1:{port}/sites/sfs/api/search/v1/search", params={"q": "政务公开"}, timeout=30
        )
        raw = subprocess.run(
            ["curl", "-s", f"localhost:{port}/sites/sfs/api/search/v1/search?q=政务公开"],
            capture_output=True,
            timeout=60,
        )
        assert json.loads(raw.stdout)["total"] == encoded.json()["total"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
