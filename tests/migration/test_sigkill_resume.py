"""`jiyue import` killed with SIGKILL mid-way, then run again: every item exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.identity.helpers import FAST_ARGON2
from tests.migration.helpers import item, prepare_site, write_bundle
from tests.support.platform import Platform

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 60


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


def _imported(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM import_item").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def _command(bundle: Path) -> list[str]:
    return [sys.executable, "-m", "gateway.cli", "import", str(bundle), "--site", "jtj",
            "--approve-migration", "--batch", "4", "--no-migrate"]  # fmt: skip


async def test_sigkill_then_restart_imports_every_item_once(tmp_path: Path) -> None:
    data = tmp_path / "var"
    lines = [item(n) for n in range(1, TOTAL + 1)]
    lines.insert(10, "{broken")
    bundle = write_bundle(tmp_path / "bundle", lines)
    async with Platform.start(data) as platform:
        await prepare_site(platform)
    env = {**os.environ, "JIYUE_DATA_DIR": str(data)}
    db = data / "content.db"
    first = subprocess.Popen(_command(bundle), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while _imported(db) < 8 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the import ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    killed_at = _imported(db)
    assert 0 < killed_at < TOTAL

    second = subprocess.run(_command(bundle), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    with sqlite3.connect(db) as conn:
        keys = [k for (k,) in conn.execute("SELECT source_key FROM import_item")]
        live = conn.execute("SELECT count(*) FROM publication WHERE status = 'published'").fetchone()[0]
        titles = conn.execute("SELECT count(DISTINCT title) FROM publication").fetchone()[0]
        jobs = conn.execute("SELECT status, failures FROM import_job ORDER BY id").fetchall()
    assert sorted(keys) == sorted(f"tzgg/{n:04d}" for n in range(1, TOTAL + 1))
    assert (live, titles) == (TOTAL, TOTAL)
    # the restart resumed the job the kill interrupted; its report names the broken line once
    assert len(jobs) == 1 and jobs[0][0] == "finished"
    assert jobs[0][1].count('"line":11') == 1
    assert "第 11 行" in second.stdout and "malformed" in second.stdout
