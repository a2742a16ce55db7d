"""`jiyue import BUNDLE --site CODE`: the platform in this process, the job driven through it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from gateway.app import create_gateway
from gateway.importer.runner import Importer, Outcome
from gateway.importer.runner import Progress as Counts
from gateway.settings import GatewaySettings

INDEX_CONSUMER = "feed:search-publications"


async def index_lag(gateway: Any) -> int | None:
    """Events the search indexer has not yet processed (None: search is not reachable)."""
    try:
        resp = await gateway.directory.raw("search").get("/readyz")
        status = resp.json().get("checks", {}).get(INDEX_CONSUMER, {})
        return int(status["lag"]) if "lag" in status else None
    except (httpx.HTTPError, ValueError, KeyError, AttributeError):
        return None


async def wait_indexed(gateway: Any, timeout: float = 600.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lag = await index_lag(gateway)
        if lag == 0:
            return True
        if lag is None:
            return False
        await asyncio.sleep(0.2)
    return False


async def run_import(
    console: Console,
    folder: Path,
    site: str,
    *,
    approval: str | None,
    batch: int,
    wait_index: bool = True,
) -> Outcome:
    settings = GatewaySettings(gateway_access_log=False)
    asgi = create_gateway(settings)
    gateway = asgi.gateway
    async with gateway.lifespan():
        transport = httpx.ASGITransport(app=gateway.trusted)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", timeout=300, auth=gateway.directory.auth
        ) as client:
            columns = [
                TextColumn("[bold]导入[/bold]"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]:.1f} 条/秒 · 已导入 {task.fields[imported]} · 跳过 {task.fields[skipped]} · 失败 {task.fields[failed]}"),
                TimeRemainingColumn(),
            ]
            started = time.perf_counter()
            with Progress(*columns, console=console) as bar:
                task = bar.add_task("import", total=None, rate=0.0, imported=0, skipped=0, failed=0)

                def show(p: Counts) -> None:
                    rate = p.done / max(time.perf_counter() - started, 1e-6)
                    bar.update(task, completed=p.done, rate=rate, imported=p.imported, skipped=p.skipped, failed=p.failed)

                importer = Importer(
                    client,
                    site,
                    batch=batch,
                    approval=approval,
                    on_progress=show,
                    on_start=lambda total: bar.update(task, total=total),
                )
                outcome = await importer.run(folder)
            if wait_index:
                with console.status("等待检索索引完成…"):
                    indexed = await wait_indexed(gateway)
                if not indexed:
                    console.print("[yellow]检索索引尚未追平；服务启动后会继续建立索引[/yellow]")
    return outcome


def print_report(console: Console, outcome: Outcome, seconds: float) -> None:
    job = outcome.job
    rate = outcome.imported / seconds if seconds > 0 else 0.0
    console.print(
        f"[green]导入任务 {outcome.job_id} 完成[/green]：共 {outcome.total} 行，新导入 {outcome.imported} 条，"
        f"此前已导入 {outcome.skipped} 条，未导入 {len(outcome.failures)} 条；{seconds:.1f}s（{rate:.1f} 条/秒）"
    )
    if job.get("approved_by"):
        console.print(f"迁移审批：{job['approved_by']}（{job.get('approval_note', '')}）")
    for f in outcome.failures:
        key = f" {f['source_key']}" if f.get("source_key") else ""
        console.print(f"  第 {f['line']} 行{key}：{f['reason']} {f['message']}", style="red", markup=False)
