"""Password hashing (argon2id through the passlib API), policy and dummy verification."""

from __future__ import annotations

import asyncio
import math
import secrets
import string
from collections.abc import Callable
from typing import TypeVar

from passlib.context import CryptContext

from services.identity.settings import IdentitySettings
from services.kernel.errors import ServiceUnavailable, ValidationFailed

T = TypeVar("T")

_CLASSES = (
    ("小写字母", string.ascii_lowercase),
    ("大写字母", string.ascii_uppercase),
    ("数字", string.digits),
)


def _classes_present(password: str) -> int:
    found = sum(any(c in chars for c in password) for _, chars in _CLASSES)
    # Anything that is not an ASCII letter or digit counts as a symbol (Chinese included).
    found += any(not (c.isascii() and c.isalnum()) for c in password)
    return found


def check_policy(password: str, *, username: str = "", min_length: int = 8, field: str = "password") -> None:
    """At least `min_length` characters and three of four classes (等保三级 password complexity)."""
    if len(password) < min_length:
        raise ValidationFailed.field(field, f"密码长度至少 {min_length} 位")
    if len(password) > 128:
        raise ValidationFailed.field(field, "密码长度不能超过 128 位")
    if _classes_present(password) < 3:
        raise ValidationFailed.field(field, "密码须包含大写字母、小写字母、数字、特殊字符中的至少三类")
    if username and username.lower() in password.lower():
        raise ValidationFailed.field(field, "密码不能包含用户名")


def generate_password(length: int = 16) -> str:
    """A random password that satisfies the policy (all four classes)."""
    alphabet = string.ascii_letters + string.digits + "!@#%^&*-_=+"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if _classes_present(candidate) == 4:
            return candidate


class PasswordService:
    """argon2id off the event loop, at most `slots` at a time.

    Each hash takes argon2_memory_cost of memory for its duration, so an unbounded burst of
    sign-ins would exhaust the pod; the budget setting bounds the sum and the excess waits
    briefly, then is told to retry (503) instead of queueing without limit.
    """

    def __init__(self, settings: IdentitySettings) -> None:
        self.context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__time_cost=settings.argon2_time_cost,
            argon2__memory_cost=settings.argon2_memory_cost,
            argon2__parallelism=settings.argon2_parallelism,
        )
        self._dummy: str | None = None
        self.slots = max(1, settings.identity_hash_memory_mb * 1024 // settings.argon2_memory_cost)
        self._gate = asyncio.Semaphore(self.slots)
        self._wait = settings.identity_hash_wait_seconds

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        try:
            await asyncio.wait_for(self._gate.acquire(), self._wait)
        except TimeoutError:
            retry = max(1, math.ceil(self._wait))
            raise ServiceUnavailable(
                "登录请求过多，请稍后再试", headers={"Retry-After": str(retry)}
            ) from None
        try:
            # argon2 is deliberately slow: a thread keeps other requests flowing meanwhile.
            return await asyncio.to_thread(fn, *args)
        finally:
            self._gate.release()

    async def hash(self, password: str) -> str:
        return await self._run(self.context.hash, password)

    async def verify(self, password: str, hashed: str) -> bool:
        try:
            return bool(await self._run(self.context.verify, password, hashed))
        except (ValueError, TypeError):
            return False

    def needs_update(self, hashed: str) -> bool:
        return bool(self.context.needs_update(hashed))

    async def verify_dummy(self, password: str) -> None:
        """Spend the same time as a real check, so an unknown username answers as slowly."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))
        await self.verify(password, self._dummy)
