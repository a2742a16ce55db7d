"""`jiyue`: serve, migrate, seed demo data, and each service's own commands."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from services import registry

console = Console()
app = typer.Typer(help="集约化平台 Jiyue 命令行", no_args_is_help=True, pretty_exceptions_show_locals=False)


@app.command()
def migrate(
    service: Annotated[str | None, typer.Argument(help="只迁移这个服务")] = None,
    revision: Annotated[str, typer.Option(help="目标版本")] = "head",
    downgrade: Annotated[bool, typer.Option("--downgrade", help="降级到 revision（默认 base）")] = False,
) -> None:
    """Apply (or undo) each service's alembic migrations."""
    from gateway import migrate as m

    names = [service] if service else None
    if service:
        registry.get(service)
    started = time.perf_counter()
    with console.status("迁移数据库…"):
        if downgrade:
            done = asyncio.run(m.downgrade(names, "base" if revision == "head" else revision))
        else:
            done = asyncio.run(m.migrate(names, revision))
    console.print(f"[green]迁移完成[/green] {', '.join(done)} ({time.perf_counter() - started:.1f}s)")


@app.command()
def demo(
    corpus: Annotated[str | None, typer.Option(help="额外导入的 JSONL(.gz) 语料，例如法规库")] = None,
    corpus_limit: Annotated[int | None, typer.Option(help="语料最多导入多少篇")] = None,
) -> None:
    """Seed the demo city 示范市 (idempotent); optionally import a corpus."""
    from gateway import migrate as m
    from gateway.demo.seed import run_demo

    asyncio.run(m.migrate())
    asyncio.run(run_demo(console, corpus=corpus, corpus_limit=corpus_limit))


@app.command("import-mirror")
def import_mirror(
    mirror: Annotated[
        Path, typer.Argument(help="wget --mirror 得到的网站目录", exists=True, file_okay=False)
    ],
    mapping: Annotated[
        Path, typer.Option(help="映射文件（.toml 或 .yaml），见 docs/import-mirror.md", exists=True)
    ],
    out: Annotated[Path, typer.Option(help="写出的导入包目录（items.jsonl、files/、mirror-report.json）")],
) -> None:
    """Convert a static mirror of an old site into an import bundle for `jiyue import`."""
    from pydantic import ValidationError

    from services.content.service.mirror import REPORT, convert_mirror, load_mapping

    try:
        rules = load_mapping(mapping)
    except (ValidationError, ValueError) as exc:
        console.print(f"[red]映射文件有误[/red] {mapping}:\n{exc}")
        raise typer.Exit(2) from exc
    started = time.perf_counter()
    with console.status("转换镜像…"):
        report = convert_mirror(mirror, rules, out)
    summary = report.as_json()
    console.print(
        f"[green]转换完成[/green] 页面 {summary['pages_seen']}，列表页 {summary['list_pages']}，"
        f"条目 {summary['items']}，跳过 {summary['skipped']} ({time.perf_counter() - started:.1f}s)"
    )
    for reason, count in {**summary["skipped_by_reason"], **summary["notes_by_kind"]}.items():
        console.print(f"  {reason}: {count}")
    console.print(f"逐页报告：{out / REPORT}")


@app.command("import")
def import_(
    bundle: Annotated[
        Path, typer.Argument(help="数据包目录（含 items.jsonl 与附件文件），格式见 docs/import-format.md")
    ],
    site: Annotated[str, typer.Option("--site", help="导入到哪个站点（站点代码）")],
    approve_migration: Annotated[
        bool,
        typer.Option("--approve-migration", help="以迁移审批代替逐条审核（须站点管理员或平台管理员；留痕）"),
    ] = False,
    note: Annotated[str, typer.Option(help="迁移审批意见")] = "整合迁移：原网站已发布的信息，迁移前已核对",
    batch: Annotated[int, typer.Option(min=1, max=500, help="每批条数")] = 100,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="不自动迁移数据库")] = False,
) -> None:
    """Import a bundle into a site's columns; resumable, idempotent by source key."""
    from gateway import migrate as m
    from gateway.importer.command import print_report, run_import
    from gateway.settings import GatewaySettings

    if not (bundle / "items.jsonl").is_file():
        console.print(f"[red]{bundle} 中没有 items.jsonl[/red]")
        raise typer.Exit(2)
    if not GatewaySettings().database_url and not no_migrate:
        asyncio.run(m.migrate())
    started = time.perf_counter()
    outcome = asyncio.run(
        run_import(console, bundle, site, approval=note if approve_migration else None, batch=batch)
    )
    print_report(console, outcome, time.perf_counter() - started)


@app.command()
def serve(
    service: Annotated[str | None, typer.Argument(help="只启动这个服务；不填则启动网关与全部服务")] = None,
    host: Annotated[str, typer.Option(help="监听地址；:: 表示 IPv4 与 IPv6 双栈")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    with_demo: Annotated[bool, typer.Option("--demo", help="启动后在后台写入演示数据（幂等）")] = False,
    workers: Annotated[bool, typer.Option(help="在本进程内运行后台任务（变更订阅等）")] = True,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="不自动迁移")] = False,
    access_log: Annotated[bool, typer.Option(help="uvicorn 访问日志")] = False,
) -> None:
    """Serve the platform: all services in one process behind the gateway, or one service."""
    from gateway import migrate as m
    from gateway.server import serve as run_server
    from gateway.settings import GatewaySettings
    from services.kernel.edge import EdgeGuard, edge_key
    from services.kernel.runtime import internal_secret

    settings = GatewaySettings()
    embedded = not settings.database_url
    if service and service != "gateway":
        spec = registry.get(service)
        svc_settings = spec.app_module.settings_class()
        if embedded and not no_migrate:
            asyncio.run(m.migrate([service]))
        console.print(f"[bold]jiyue {service}[/bold] on {host}:{port}")
        # On its own socket a service hears from the gateway and from anyone else who can reach
        # the port: tenant and client address count only when the gateway signed them.
        run_server(
            EdgeGuard(
                spec.app_module.create_app(svc_settings, run_workers=workers),
                edge_key(internal_secret(svc_settings)),
            ),
            host,
            port,
            log_level=settings.log_level,
            access_log=access_log,
        )
        return
    if (embedded and not no_migrate) or with_demo:
        local = [s.name for s in registry.SERVICES if s.name not in settings.gateway_backends]
        asyncio.run(m.migrate(local))
    from gateway.app import create_gateway

    gateway_app = create_gateway(settings)
    if with_demo:
        from gateway.demo.seed import SeedAfterStartup

        gateway_app = SeedAfterStartup(gateway_app, settings, console, os.environ.get("JIYUE_DEMO_CORPUS"))
    console.print(
        f"[bold]jiyue gateway[/bold] on http://{'[' + host + ']' if ':' in host else host}:{port}  "
        f"(docs: /docs, health: /healthz)"
    )
    run_server(gateway_app, host, port, log_level=settings.log_level, access_log=access_log)


def _register_service_clis() -> None:
    for spec in registry.SERVICES:
        try:
            module = importlib.import_module(f"services.{spec.name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"services.{spec.name}.cli":
                raise
            continue
        app.add_typer(module.app, name=spec.name, help=spec.title)


_register_service_clis()


def main() -> None:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
