"""Tables of the federation service: peers, what peers reported about their sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field

from services.federation.base import Base, metadata
from services.kernel.columns import CompressedJSON
from services.kernel.feed import define_feed_tables

feed_tables = define_feed_tables(metadata)


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Peer(Base, table=True):
    """Another platform: where it is, whom it trusts, what each side may read of the other."""

    __tablename__ = "peer"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    base_url: str = Field(max_length=500)
    issuer: str = Field(max_length=500)
    # Our machine client at the peer; the secret only encrypted (Fernet), never answered.
    remote_client_id: str | None = Field(default=None, max_length=64)
    remote_secret_enc: str | None = Field(default=None, max_length=1000)
    # The client identity issued here for the peer, and the scopes it holds (PeerScope).
    local_client_id: str = Field(max_length=64, unique=True)
    scopes: list[str] = _json(list)
    # What we follow of the peer's feed (FollowKind).
    follow: list[str] = _json(list)
    status: str = Field(default="active", max_length=16)
    created_by: str = Field(max_length=128)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class PeerSite(Base, table=True):
    """A peer's hosted site as its registry feed last described it (网站基本信息)."""

    __tablename__ = "peer_site"
    __table_args__ = (UniqueConstraint("peer", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64, index=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(default="", max_length=16)
    status: str = Field(max_length=16)
    domains: list[str] = _json(list)
    id_code: str = Field(default="", max_length=16)
    icp_no: str = Field(default="", max_length=64)
    psb_no: str = Field(default="", max_length=64)
    notice: str | None = Field(default=None, max_length=1000)
    moved_to: str | None = Field(default=None, max_length=64)
    last_event: int = Field(default=0)
    updated_at: datetime | None = _ts()


class PeerSiteChange(Base, table=True):
    """One change a peer reported about a site; the peer's event id makes replays no-ops."""

    __tablename__ = "peer_site_change"
    __table_args__ = (UniqueConstraint("peer", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64, index=True)
    event_id: int
    site_code: str = Field(max_length=64, index=True)
    action: str = Field(max_length=64)
    status: str = Field(max_length=16)
    detail: dict[str, Any] = _json(dict)
    occurred_at: datetime | None = _ts()
    recorded_at: datetime | None = _ts()


class ReportSubmission(Base, table=True):
    """One of our sites' annual report sent up to a peer, and the review state it sent back."""

    __tablename__ = "report_submission"
    __table_args__ = (UniqueConstraint("peer", "site", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64, index=True)
    site: str = Field(max_length=64)
    year: int
    # The report as oversight computed it when submitted (the peer reads this very copy).
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(CompressedJSON, nullable=False))
    state: str = Field(max_length=16)  # ReportState
    opinion: str = Field(default="", max_length=2000)
    submitted_by: str = Field(max_length=128)
    submitted_at: datetime | None = _ts()
    reviewed_at: datetime | None = _ts()


class PeerReport(Base, table=True):
    """An annual report a peer submitted to us, and our review of it."""

    __tablename__ = "peer_report"
    __table_args__ = (UniqueConstraint("peer", "remote_id"),)

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64, index=True)
    remote_id: int
    site: str = Field(max_length=64)
    year: int
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(CompressedJSON, nullable=False))
    state: str = Field(max_length=16)  # ReportState
    opinion: str = Field(default="", max_length=2000)
    received_at: datetime | None = _ts()
    reviewed_by: str | None = Field(default=None, max_length=128)
    reviewed_at: datetime | None = _ts()


# Resource sharing's tables live in their own module; imported here so `metadata` holds them.
from services.federation import shared_models as _shared_models  # noqa: E402,F401
