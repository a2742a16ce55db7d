"""The platform's one clock and its one time representation on the wire.

Policy (docs/contracts.md, "Time"): instants are kept as aware UTC datetimes internally and in
the databases, and every API answer writes them as ISO 8601 with the Asia/Shanghai offset
(`2026-12-02T13:15:36.123456+08:00`). One offset everywhere means a hosted site's front end
can compare strings and show them without converting; Shanghai because the platform's users,
deadlines and display dates are all in it (China has one time zone and no daylight saving).

Tests move time with `travel()` instead of sleeping; everything that asks "what time is it"
goes through `now()` / `epoch()` so a moved clock moves deadlines, schedules and expiries alike.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer

SHANGHAI = ZoneInfo("Asia/Shanghai")

_offset = timedelta(0)


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC) + _offset


def epoch() -> float:
    """The current instant as seconds since the epoch (token expiries, throttles)."""
    return time.time() + _offset.total_seconds()


def today() -> date:
    """Today's date in Asia/Shanghai (display dates, deadlines, annual years)."""
    return now().astimezone(SHANGHAI).date()


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def to_wire(value: datetime) -> str:
    return aware(value).astimezone(SHANGHAI).isoformat()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _coerce(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(float(value))
    if isinstance(value, datetime):
        return aware(value)
    return value


# Use for every instant in a response schema: accepts aware or naive (UTC) datetimes and epoch
# floats, and always serialises with the +08:00 offset.
WireDateTime = Annotated[
    datetime,
    BeforeValidator(_coerce),
    PlainSerializer(to_wire, return_type=str, when_used="json"),
]


@contextmanager
def travel(delta: timedelta) -> Iterator[None]:
    """Move the platform clock by `delta` for the duration of the block (tests only)."""
    global _offset
    before = _offset
    _offset = before + delta
    try:
        yield
    finally:
        _offset = before


def shift(delta: timedelta) -> None:
    """Move the clock permanently (for tests that step through days); `reset()` undoes it."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)
