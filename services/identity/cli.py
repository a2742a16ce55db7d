"""`jiyue identity ...`: audit chain verification, key rotation, creating a user."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console

from services.identity.schemas import UserIn
from services.identity.service import accounts, audit, keys
from services.identity.service.common import Actor
from services.identity.service.runtime import IdentityRuntime
from services.identity.settings import IdentitySettings
from services.kernel.db import Database

app = typer.Typer(help="统一身份认证", no_args_is_help=True)
console = Console()


def _database(settings: IdentitySettings) -> Database:
    return Database(settings.service_database_url("identity"), settings.database_schema("identity"))


async def _with_session(settings: IdentitySettings, work: Any) -> Any:
    db = _database(settings)
    try:
        async with db.session() as session:
            return await work(session)
    finally:
        await db.dispose()


@app.command("verify-audit")
def verify_audit() -> None:
    """Check the audit log's hash chain; report the first broken row (exit 1)."""
    settings = IdentitySettings()
    report = asyncio.run(_with_session(settings, audit.verify_chain))
    if report.ok:
        console.print(f"[green]审计日志完整[/green]：共 {report.rows} 条，哈希链校验通过")
        return
    where = f"序号 {report.first_broken_seq}" + (
        f"（id {report.first_broken_id}）" if report.first_broken_id else ""
    )
    console.print(f"[red]审计日志被篡改[/red]：第一处异常在 {where}：{report.reason}")
    raise typer.Exit(code=1)


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Make a new signing key active; the old one stays in the JWKS until its tokens expire."""
    settings = IdentitySettings()
    ring = IdentityRuntime(settings).keys

    async def work(session: Any) -> tuple[str, list[str], int]:
        return await keys.rotate_recorded(session, ring, Actor("cli:rotate-keys"))

    active, retired, pruned = asyncio.run(_with_session(settings, work))
    console.print(
        f"新的签名密钥 [bold]{active}[/bold] 已启用；退役 {', '.join(retired) or '无'}；清除过期密钥 {pruned} 个"
    )


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="用户名")],
    display_name: Annotated[str, typer.Option(help="姓名")] = "",
    org: Annotated[str | None, typer.Option(help="所属机构代码")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a staff account (roles are granted by the security administrator)."""
    settings = IdentitySettings()
    rt = IdentityRuntime(settings)
    data = UserIn(username=username, display_name=display_name or username, password=password, org_code=org)

    async def work(session: Any) -> int:
        user = await accounts.create_user(session, rt, data, Actor("cli:create-user"))
        return user.id or 0

    user_id = asyncio.run(_with_session(settings, work))
    console.print(f"用户 {username} 已创建（id {user_id}）")
