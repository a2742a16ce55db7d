"""Tables of resource sharing between platforms: what we offer peers, where peers placed it,
and where our sites placed a peer's resource (imported by models.py, so one metadata holds all)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field

from services.federation.base import Base


def _ts(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class SharedResource(Base, table=True):
    """A resource of our library offered to peer platforms (互联共享); revoked ones stay listed."""

    __tablename__ = "shared_resource"

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(unique=True, index=True)
    owner_site: str = Field(max_length=64, index=True)
    offered_by: str = Field(max_length=128)
    offered_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()


class PeerResourceUsage(Base, table=True):
    """A peer's publication that pins a version of one of our shared resources (统一监管 across
    platforms): registered by the peer, one row per (peer, site, item), updated on replays."""

    __tablename__ = "peer_resource_usage"
    __table_args__ = (UniqueConstraint("peer", "site", "item"),)

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64, index=True)
    resource_id: int = Field(index=True)
    version: int
    site: str = Field(max_length=64)
    item: int
    title: str = Field(default="", max_length=300)
    status: str = Field(max_length=16)  # UsageState
    registered_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class ResourcePlacement(Base, table=True):
    """One of our sites placed a peer's resource version: the local copy (library resource and
    publication) and its provenance, and whether the peer has the usage registered."""

    __tablename__ = "resource_placement"
    __table_args__ = (UniqueConstraint("peer", "site", "publication_id"),)

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64, index=True)
    remote_resource_id: int
    remote_version: int
    remote_index_no: str | None = Field(default=None, max_length=64)
    site: str = Field(max_length=64, index=True)
    column_id: int
    resource_id: int
    resource_version: int
    publication_id: int
    # The publication's state as last sent to the source (UsageState); `registered` is true once
    # the source has acknowledged that state, false while it is still to be sent (retried).
    status: str = Field(default="placed", max_length=16)
    registered: bool = False
    last_error: str | None = Field(default=None, max_length=500)
    placed_by: str = Field(max_length=128)
    placed_at: datetime | None = _ts()
