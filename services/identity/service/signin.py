"""Checking a username and password: lockout per account, back-off per client address.

Every failure answers the same words whatever went wrong (unknown user, wrong password,
locked or disabled account) and spends the same argon2 work, so the answer never tells
whether an account exists.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import AddressThrottle, User
from services.identity.service import audit
from services.identity.service.accounts import current_policy, user_by_username
from services.identity.service.common import Actor, now
from services.identity.service.runtime import IdentityRuntime
from services.kernel.addresses import throttle_key

GENERIC_FAILURE = "用户名或密码错误，或账户已被临时锁定，请稍后再试"


class SignInFailure(Exception):
    def __init__(self, message: str = GENERIC_FAILURE, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


async def _address_blocked(session: AsyncSession, address: str, at: float) -> int | None:
    row = await session.get(AddressThrottle, address)
    if row is not None and row.blocked_until and row.blocked_until > at:
        return int(row.blocked_until - at) + 1
    return None


async def _address_failed(
    session: AsyncSession, rt: IdentityRuntime, address: str, at: float, window: int
) -> None:
    settings = rt.settings
    # Insert-if-absent then lock: concurrent failures from a new address must not collide.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(AddressThrottle)
        .values(address=address, failures=0, window_start=at)
        .on_conflict_do_nothing(index_elements=["address"])
    )
    row = (
        (
            await session.execute(
                select(AddressThrottle)
                .where(col(AddressThrottle.address) == address)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .one()
    )
    if at - row.window_start > window:
        row.failures = 0
        row.window_start = at
    row.failures += 1
    excess = row.failures - settings.address_failure_threshold
    if excess >= 0:  # 1 s at the threshold, doubling with every further failure
        row.blocked_until = at + min(2 ** min(excess, 20), settings.address_backoff_max_seconds)


async def _lock_row(session: AsyncSession, user: User) -> None:
    """Re-read the account under a row lock so concurrent failures all count."""
    await session.execute(
        select(User)
        .where(col(User.id) == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def authenticate(
    session: AsyncSession, rt: IdentityRuntime, username: str, password: str, address: str, via: str
) -> User:
    """The user whose credentials these are, or SignInFailure (state recorded; commit it)."""
    at = now()
    actor = Actor(username[:64] or "-", address)
    # The address the gateway saw (kernel client_ip), grouped as every throttle groups it: one
    # client behind a shared proxy never locks out the others, one IPv6 host is one client.
    key = throttle_key(address)
    policy = await current_policy(session, rt.settings)
    wait = await _address_blocked(session, key, at)
    if wait is not None:
        await audit.record(
            session, actor, "signin.throttled", username[:64], {"via": via, "retry_after": wait}
        )
        raise SignInFailure("登录尝试过于频繁，请稍后再试", retry_after=wait)

    user = await user_by_username(session, username)
    if user is None:
        await rt.passwords.verify_dummy(password)
        await _address_failed(session, rt, key, at, policy.lockout_window_seconds)
        await audit.record(session, actor, "signin.failed", username[:64], {"via": via, "reason": "unknown"})
        raise SignInFailure()

    matches = await rt.passwords.verify(password, user.password_hash)
    locked = bool(user.locked_until and user.locked_until > at)
    if locked or not matches or user.status != "active":
        await _address_failed(session, rt, key, at, policy.lockout_window_seconds)
        reason = "locked" if locked else ("bad-password" if not matches else "disabled")
        if not matches and not locked:
            await _lock_row(session, user)
            if user.first_failed_at is None or at - user.first_failed_at > policy.lockout_window_seconds:
                user.failed_count = 0
                user.first_failed_at = at
            user.failed_count += 1
            if user.failed_count >= policy.lockout_max_failures:
                user.locked_until = at + policy.lockout_seconds
                user.failed_count = 0
                user.first_failed_at = None
                await audit.record(
                    session, actor, "account.locked", user.username, {"until_seconds": policy.lockout_seconds}
                )
        await audit.record(session, actor, "signin.failed", user.username, {"via": via, "reason": reason})
        raise SignInFailure()

    user.failed_count = 0
    user.first_failed_at = None
    user.locked_until = None
    if rt.passwords.needs_update(user.password_hash):
        user.password_hash = await rt.passwords.hash(password)
    await audit.record(session, actor, "signin.succeeded", user.username, {"via": via})
    return user
