"""Tables of the oversight service; its own metadata, its own database or schema.

Visits are kept only as aggregates: page-view counters per day and HyperLogLog sketches of
salted address hashes. No address and no hash of one is ever written; the yearly salt is a
random secret, so a sketch cannot be tested against a guessed address by anyone without it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Date, DateTime, LargeBinary
from sqlmodel import Field

from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables

if TYPE_CHECKING:  # the runtime base is built by a factory mypy cannot follow
    from sqlmodel import SQLModel as Base
else:
    Base = service_base("oversight")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)


def _instant(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), **kw)  # type: ignore[arg-type]


class WatchedSite(Base, table=True):
    """A hosted site as content's feed describes it."""

    __tablename__ = "watched_site"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    status: str = Field(max_length=16)
    updated_at: datetime = Field(sa_column=_instant(nullable=False))


class WatchedColumn(Base, table=True):
    __tablename__ = "watched_column"

    column_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    site: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    category: str = Field(max_length=16)
    update_interval_days: int | None = None
    responsible_editor: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    deleted: bool = False


class LiveItem(Base, table=True):
    """A publication that is live now, with the instant it went live (its update time)."""

    __tablename__ = "live_item"

    publication_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    site: str = Field(max_length=64, index=True)
    column_id: int = Field(index=True)
    title: str = Field(default="", max_length=500)
    published_at: datetime = Field(sa_column=_instant(nullable=False))


class FreshnessRule(Base, table=True):
    """How long a kind of column may stay idle before a warning and before a veto (thresholds as data)."""

    __tablename__ = "freshness_rule"

    profile: str = Field(primary_key=True, max_length=32)
    subject: str = Field(primary_key=True, max_length=32)  # homepage | dynamic | notice | long_stale
    warn_days: int
    veto_days: int


class CountRule(Base, table=True):
    """How many stale, long-stale or blank columns a site may have before a warning and a veto."""

    __tablename__ = "count_rule"

    profile: str = Field(primary_key=True, max_length=32)
    indicator: str = Field(primary_key=True, max_length=32)
    warn_at: int
    veto_at: int


class Alert(Base, table=True):
    """A warning or veto raised for a site's indicator: once per level reached, resolved when the cause goes."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64, index=True)
    indicator: str = Field(max_length=32)
    level: str = Field(max_length=16)
    value: int
    evidence: str = Field(default="", max_length=2000)
    raised_at: datetime = Field(sa_column=_instant(nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))


class DailyViews(Base, table=True):
    """Page views of one site's page (site home, a column, an item, search) on one day."""

    __tablename__ = "daily_views"

    site: str = Field(primary_key=True, max_length=64)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    kind: str = Field(primary_key=True, max_length=16)
    ref: str = Field(primary_key=True, max_length=64)
    views: int = 0


class VisitorSketch(Base, table=True):
    """Unique visitors of a site (or the platform, site "") over a period, as a HyperLogLog sketch."""

    __tablename__ = "visitor_sketch"

    site: str = Field(primary_key=True, max_length=64)
    period: str = Field(primary_key=True, max_length=10)  # "2026" or "2026-12-02"
    sketch: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(sa_column=_instant(nullable=False))


class YearSalt(Base, table=True):
    """The secret that address hashes of one year are keyed with (one salt a year: daily salts
    would make one visitor a new visitor every day, and the yearly figure wrong)."""

    __tablename__ = "year_salt"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
