"""A process killed mid-upload or mid-store leaves no half object, half version or lone event."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.kernel.db import Database
from services.resources.models import (
    Attachment,
    IndexCounter,
    Resource,
    ResourceVersion,
    StoredObject,
    feed_tables,
)
from services.resources.storage.local import LocalObjectStore
from tests.support.services import service_settings

REPO = Path(__file__).resolve().parents[2]


def run_until_marker_then_kill(mode: str, data_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / f"{mode}.reached"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIYUE_")}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.resources.crash_child", mode, str(data_dir), str(marker)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                output = child.stdout.read().decode() if child.stdout else ""
                pytest.fail(f"child exited early ({child.returncode}): {output[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("child never reached the crash point")
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL


async def counts(data_dir: Path) -> dict[str, int]:
    settings = service_settings("resources", data_dir)
    db = Database(settings.service_database_url("resources"))
    out = {}
    try:
        async with db.session() as session:
            for name, table in {
                "resources": Resource,
                "stored_versions": ResourceVersion,
                "objects": StoredObject,
                "attachments": Attachment,
                "counters": IndexCounter,
            }.items():
                stmt = select(func.count()).select_from(table)  # type: ignore[arg-type]
                if table is ResourceVersion:
                    stmt = stmt.where(ResourceVersion.status == "stored")  # type: ignore[arg-type]
                out[name] = (await session.execute(stmt)).scalar_one()
            ob = feed_tables.outbox
            out["stored_events"] = (
                await session.execute(
                    select(func.count()).select_from(ob).where(ob.c.topic == "resource.stored")
                )
            ).scalar_one()
            status = (await session.execute(select(Resource.status))).scalars().all()  # type: ignore[call-overload]
            out["drafts"] = sum(1 for s in status if s == "draft")
    finally:
        await db.dispose()
    return out


async def test_kill_during_store_leaves_the_draft_untouched(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    run_until_marker_then_kill("store", data_dir, tmp_path)
    assert await counts(data_dir) == {
        "resources": 1,
        "drafts": 1,
        "stored_versions": 0,
        "objects": 0,
        "attachments": 0,
        "counters": 0,
        "stored_events": 0,
    }


async def test_kill_during_upload_leaves_no_object_and_startup_cleans_staging(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    run_until_marker_then_kill("upload", data_dir, tmp_path)
    root = data_dir / "objects"
    finals = [p for p in root.rglob("*") if p.is_file() and ".staging" not in p.parts]
    assert finals == [], "no object may appear under its final name"
    staging = list((root / ".staging").glob("*"))
    assert len(staging) == 1, "the half upload exists only as a staging file"
    result = await counts(data_dir)
    assert result["objects"] == 0 and result["attachments"] == 0
    await LocalObjectStore(root).start()  # what the service does at startup
    assert list((root / ".staging").glob("*")) == []
