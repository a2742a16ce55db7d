"""Small helpers shared by the identity service modules."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from services.kernel import clock


def now() -> float:
    return clock.epoch()


def instant(ts: float | None) -> datetime | None:
    """A stored epoch as the aware instant a response schema (WireDateTime) takes."""
    return None if ts is None else clock.from_epoch(ts)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def opaque_token() -> str:
    """256 random bits; only its SHA-256 is stored, so a database leak yields no usable token."""
    return secrets.token_urlsafe(32)


@dataclass
class Actor:
    """Who is doing something, for the audit log and the permission checks."""

    name: str
    address: str = ""


class OAuthError(Exception):
    """An RFC 6749 error: the token endpoint answers it as JSON, /authorize as a redirect.

    Not a JiyueError on purpose: the router commits what was recorded (failure counters, a
    revoked token family) before answering, where a JiyueError would roll it back.
    """

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
