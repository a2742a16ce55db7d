"""`jiyue search ...`: rebuild the index from the source service, inspect it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="站内搜索", no_args_is_help=True)
console = Console()


async def _reindex(page_size: int) -> int:
    from services.kernel.runtime import build_context
    from services.search.models import feed_tables
    from services.search.settings import SearchSettings

    settings = SearchSettings()
    ctx = build_context("search", settings, feed=feed_tables, run_workers=False)
    async with contextlib.AsyncExitStack() as stack:
        if not ctx.directory.knows(settings.search_source):
            # The embedded default: run the source service and identity in this process, on
            # their own data, sharing this directory so content verifies our internal token.
            from services import registry

            for name in (settings.search_source, "identity"):
                if ctx.directory.knows(name):
                    continue
                module = registry.get(name).app_module
                peer = module.create_app(module.settings_class(), directory=ctx.directory, run_workers=False)
                await stack.enter_async_context(peer.router.lifespan_context(peer))
                ctx.directory.register_app(name, peer)
        return await _rebuild(ctx, settings, page_size)


async def _rebuild(ctx: Any, settings: Any, page_size: int) -> int:
    from services.search.analysis import get_analyzer
    from services.search.backends import make_backend
    from services.search.reindex import rebuild, source_fetcher

    analyzer = get_analyzer(settings.search_dict_dir)
    backend = make_backend(settings, analyzer)
    await backend.open()
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            fetched = progress.add_task("读取索引文档", total=None)
            indexed = progress.add_task("写入新索引", total=None)

            def report(stage: str, count: int) -> None:
                progress.advance(fetched if stage == "fetch" else indexed, count)

            return await rebuild(
                ctx.db,
                backend,
                source_fetcher(ctx.directory, settings.search_source),
                page_size=page_size,
                progress=report,
            )
    finally:
        await backend.close()
        await ctx.directory.aclose()
        await ctx.db.dispose()


@app.command()
def reindex(
    page_size: Annotated[int, typer.Option(help="每次从内容服务读取的文档数")] = 200,
) -> None:
    """Rebuild the search index from content into a fresh index, then swap it in."""
    count = asyncio.run(_reindex(page_size))
    console.print(f"[green]重建完成[/green]：{count} 篇文档已切换为在线索引")
