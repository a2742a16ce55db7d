"""New-media account registry (article 17) and one push task per account per important item (42).

Tasks are signed exactly like the site webhooks (`push.sign`), so a platform connector verifies
both the same way. A try is leased (state `sending`, next_attempt_at = end of lease) and sent
outside any transaction; a worker that dies mid-try leaves the task to be taken again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import NewMediaAccount, NewMediaTask, Publication
from services.content.newmedia_schemas import (
    AccountCreate,
    AccountCreatedOut,
    AccountOut,
    AccountUpdate,
    PushTaskOut,
)
from services.content.service.common import wake
from services.content.service.push import Claim, Outcome, check_url, item_payload
from services.content.vocab import AccountStatus, NewMediaPlatform, NewMediaTaskState, Worker
from services.kernel.clock import now
from services.kernel.errors import Conflict, NotFound
from services.kernel.outbound import IPNetwork

DUE_STATES = (NewMediaTaskState.PENDING, NewMediaTaskState.RETRYING, NewMediaTaskState.SENDING)


def account_out(a: NewMediaAccount) -> AccountOut:
    return AccountOut(
        id=a.id or 0,
        site=a.site_id,
        platform=NewMediaPlatform(a.platform),
        account_name=a.account_name,
        filing_no=a.filing_no,
        status=AccountStatus(a.status),
        endpoint=a.endpoint,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def task_out(t: NewMediaTask) -> PushTaskOut:
    return PushTaskOut(
        id=t.id or 0,
        account_id=t.account_id,
        site=t.site_id,
        publication_id=t.publication_id,
        state=NewMediaTaskState(t.state),
        attempts=t.attempts,
        last_error=t.last_error,
        next_attempt_at=t.next_attempt_at,
        created_at=t.created_at,
        delivered_at=t.delivered_at,
    )


async def create_account(
    session: AsyncSession, site: str, body: AccountCreate, allow: tuple[IPNetwork, ...] = ()
) -> AccountCreatedOut:
    check_url(body.endpoint, allow, "endpoint")
    account = NewMediaAccount(
        site_id=site,
        platform=body.platform,
        account_name=body.account_name,
        filing_no=body.filing_no,
        status=body.status,
        endpoint=body.endpoint,
        secret=body.secret or secrets.token_urlsafe(32),
        created_at=now(),
        updated_at=now(),
    )
    session.add(account)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"站点 {site} 已登记 {body.platform} 账号 {body.account_name}") from None
    return AccountCreatedOut(**account_out(account).model_dump(), secret=account.secret)


async def list_accounts(session: AsyncSession, site: str) -> list[NewMediaAccount]:
    stmt = (
        select(NewMediaAccount).where(col(NewMediaAccount.site_id) == site).order_by(col(NewMediaAccount.id))
    )
    return list((await session.execute(stmt)).scalars())


async def get_account(session: AsyncSession, site: str, account_id: int) -> NewMediaAccount:
    account = await session.get(NewMediaAccount, account_id)
    if account is None or account.site_id != site:
        raise NotFound(f"新媒体账号 {account_id} 不存在")
    return account


async def update_account(
    session: AsyncSession, site: str, account_id: int, body: AccountUpdate, allow: tuple[IPNetwork, ...] = ()
) -> NewMediaAccount:
    account = await get_account(session, site, account_id)
    if body.endpoint is not None:
        check_url(body.endpoint, allow, "endpoint")
        account.endpoint = body.endpoint
    if body.account_name is not None:
        account.account_name = body.account_name
    if body.filing_no is not None:
        account.filing_no = body.filing_no
    if body.status is not None:
        account.status = body.status
    account.updated_at = now()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"站点 {site} 已登记同名账号 {account.account_name}") from None
    return account


async def delete_account(session: AsyncSession, site: str, account_id: int) -> None:
    account = await get_account(session, site, account_id)
    await session.delete(account)


async def enqueue(session: AsyncSession, publication: Publication) -> int:
    """One task per active account of the item's site; a re-published copy of an important item
    counts as important on the copying site (copies do not carry the flag, so that marking one
    does not start a second round of re-publication tasks)."""
    important = publication.important
    if not important and publication.source_publication_id is not None:
        source = await session.get(Publication, publication.source_publication_id)
        important = source is not None and source.important
    if not important:
        return 0
    accounts = (
        await session.execute(
            select(NewMediaAccount).where(
                col(NewMediaAccount.site_id) == publication.site_id,
                col(NewMediaAccount.status) == AccountStatus.ACTIVE,
            )
        )
    ).scalars()
    payload = await item_payload(session, publication, "important.published")
    count = 0
    for account in accounts:
        session.add(
            NewMediaTask(
                account_id=account.id or 0,
                site_id=publication.site_id,
                publication_id=publication.id or 0,
                payload={**payload, "platform": account.platform, "account": account.account_name},
                next_attempt_at=now(),
                created_at=now(),
            )
        )
        count += 1
    if count:
        wake(session, Worker.NEW_MEDIA)
    return count


async def list_tasks(
    session: AsyncSession, site: str, state: NewMediaTaskState | None, limit: int = 200
) -> list[NewMediaTask]:
    stmt = select(NewMediaTask).where(col(NewMediaTask.site_id) == site)
    if state is not None:
        stmt = stmt.where(col(NewMediaTask.state) == state)
    stmt = stmt.order_by(col(NewMediaTask.id).desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def claim_due(
    session: AsyncSession, free_slots: Callable[[int], int], lease: timedelta, limit: int = 200
) -> list[Claim]:
    """Take due tasks, at most `free_slots(account)` per account, leased for `lease`."""
    stmt = (
        select(NewMediaTask)
        .where(col(NewMediaTask.state).in_(DUE_STATES), col(NewMediaTask.next_attempt_at) <= now())
        .order_by(col(NewMediaTask.next_attempt_at), col(NewMediaTask.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(stmt)).scalars())
    ids = {t.account_id for t in rows}
    accounts = {
        a.id: a
        for a in (
            await session.execute(select(NewMediaAccount).where(col(NewMediaAccount.id).in_(ids)))
        ).scalars()
    }
    taken: dict[int, int] = {}
    claims: list[Claim] = []
    for task in rows:
        account = accounts.get(task.account_id)
        if account is None or account.status != AccountStatus.ACTIVE:
            task.state = NewMediaTaskState.DEAD
            task.last_error = "账号已停用或已删除"
            continue
        if taken.get(task.account_id, 0) >= free_slots(task.account_id):
            continue
        taken[task.account_id] = taken.get(task.account_id, 0) + 1
        task.state = NewMediaTaskState.SENDING
        task.next_attempt_at = now() + lease
        claims.append(Claim(task.id or 0, task.account_id, account.endpoint, account.secret, task.payload))
    return claims


async def record(
    session: AsyncSession, claim: Claim, outcome: Outcome, *, max_attempts: int, backoff: float
) -> NewMediaTaskState | None:
    task = await session.get(NewMediaTask, claim.delivery_id, with_for_update=True)
    if task is None or task.state != NewMediaTaskState.SENDING:
        return None
    task.attempts += 1
    if outcome.ok:
        task.state = NewMediaTaskState.DELIVERED
        task.delivered_at = now()
        task.last_error = ""
        return NewMediaTaskState.DELIVERED
    # Only the status or the client's generic text: never the address that was dialled.
    task.last_error = (outcome.error or f"HTTP {outcome.status}")[:300]
    if outcome.refused or task.attempts >= max_attempts:
        task.state = NewMediaTaskState.DEAD
    else:
        task.state = NewMediaTaskState.RETRYING
        task.next_attempt_at = now() + timedelta(seconds=backoff * 2 ** (task.attempts - 1))
    return NewMediaTaskState(task.state)


async def retry_task(session: AsyncSession, site: str, task_id: int) -> NewMediaTask:
    task = await session.get(NewMediaTask, task_id)
    if task is None or task.site_id != site:
        raise NotFound(f"推送任务 {task_id} 不存在")
    if task.state != NewMediaTaskState.DEAD:
        raise Conflict(f"推送任务 {task_id} 当前状态为 {task.state}，只有失败的任务可以重试")
    task.state = NewMediaTaskState.PENDING
    task.attempts = 0
    task.next_attempt_at = now()
    wake(session, Worker.NEW_MEDIA)
    return task
