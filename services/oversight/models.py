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


class ProbeResult(Base, table=True):
    """One probe of a site's homepage through the gateway; kept only as long as the weekly rule needs."""

    __tablename__ = "probe_result"

    site: str = Field(primary_key=True, max_length=64)
    at: datetime = Field(sa_column=_instant(primary_key=True))
    ok: bool
    status: int = 0  # 0: no answer (refused, timed out, connection failed)
    elapsed_ms: int = 0


class WatchedLetter(Base, table=True):
    """A letter as interaction's feed describes it: ids, kind, states and when each came."""

    __tablename__ = "watched_letter"

    letter_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    site: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    received_at: datetime = Field(sa_column=_instant(nullable=False))
    replied_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    published: bool = False


class LinkFinding(Base, table=True):
    """A link or attachment of a live item that did not answer, since when, and last checked."""

    __tablename__ = "link_finding"

    publication_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    url: str = Field(primary_key=True, max_length=1000)
    site: str = Field(max_length=64, index=True)
    internal: bool
    broken: bool
    detail: str = Field(default="", max_length=200)
    since: datetime = Field(sa_column=_instant(nullable=False))
    checked_at: datetime = Field(sa_column=_instant(nullable=False))


class ReportEntry(Base, table=True):
    """A row of a site's annual report that the platform cannot compute, as the site entered it."""

    __tablename__ = "report_entry"

    site: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=600)  # JSON text of the value
    entered_by: str = Field(max_length=128)
    entered_at: datetime = Field(sa_column=_instant(nullable=False))


class ReportEntryChange(Base, table=True):
    """The audit of entered rows: who changed which figure from what to what, and when."""

    __tablename__ = "report_entry_change"

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64, index=True)
    year: int
    key: str = Field(max_length=64)
    old_value: str | None = Field(default=None, max_length=600)
    new_value: str = Field(max_length=600)
    actor: str = Field(max_length=128)
    at: datetime = Field(sa_column=_instant(nullable=False))


class ReportDraft(Base, table=True):
    """The publication in content that carries a site's annual report through review."""

    __tablename__ = "report_draft"

    site: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    publication_id: int
    created_at: datetime = Field(sa_column=_instant(nullable=False))


class NoticeSent(Base, table=True):
    """Which alert was mailed to whom: a feed event seen twice must not mail twice."""

    __tablename__ = "notice_sent"

    alert_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event: str = Field(primary_key=True, max_length=16)  # raised | resolved
    recipients: str = Field(default="", max_length=2000)
    sent_at: datetime = Field(sa_column=_instant(nullable=False))


class SecurityIncident(Base, table=True):
    """A security incident of a site (tampering, defacement, dark links, a leak): open until handled.

    `ref` names what machine review found it on ("resource:12"), so the feed opens one incident
    per item however often it is redelivered, and its withdrawal closes it."""

    __tablename__ = "security_incident"

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    source: str = Field(max_length=16)
    ref: str | None = Field(default=None, max_length=64, index=True)
    url: str = Field(default="", max_length=1000)
    description: str = Field(default="", max_length=2000)
    recorded_by: str = Field(max_length=128)
    opened_at: datetime = Field(sa_column=_instant(nullable=False))
    handled_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    handled_by: str | None = Field(default=None, max_length=128)
    handling: str = Field(default="", max_length=2000)


class PeerLagAlert(Base, table=True):
    """A peer platform's feed we follow fell behind (federation reports it): open while late,
    resolved when federation is back at the peer's head. One open alert per peer at most."""

    __tablename__ = "peer_lag_alert"

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64, index=True)
    lag_seconds: float = 0.0
    detail: str = Field(default="", max_length=500)
    raised_at: datetime = Field(sa_column=_instant(nullable=False))
    updated_at: datetime = Field(sa_column=_instant(nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
