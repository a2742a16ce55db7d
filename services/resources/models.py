"""Tables of the resources service; its own metadata, its own database or schema.

Instants are epoch seconds (float): they compare the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.kernel.columns import CompressedText
from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables

if TYPE_CHECKING:  # mypy sees an ordinary SQLModel base; at runtime it has its own metadata
    Base = SQLModel
else:
    Base = service_base("resources")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)


class Resource(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "resource"

    id: int | None = Field(default=None, primary_key=True)
    owner_site: str = Field(max_length=64, index=True)
    owner_org: str = Field(max_length=64, index=True)
    scope: str = Field(default="own_site", max_length=16)  # own_site | platform | public
    status: str = Field(default="draft", max_length=16)  # draft | stored | retired | taken_down
    latest_version: int = 1
    stored_version: int | None = None
    # Assigned at the first store and kept by every later version; never reused.
    index_no: str | None = Field(default=None, max_length=64, unique=True)
    created_by: str = Field(max_length=128)
    created_at: float
    updated_at: float
    retired_at: float | None = None
    taken_down_at: float | None = None


class ResourceVersion(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "resource_version"
    __table_args__ = (UniqueConstraint("resource_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    version: int
    status: str = Field(default="draft", max_length=16)  # draft | stored
    schema_version: int = 1
    meta: dict[str, Any] = Field(sa_column=Column("metadata", JSON, nullable=False))
    # The body is kept once, compressed; its plain text is derived from it when read
    # (`stored_text`), since storing it again doubled the resource library's size.
    body_html: str = Field(default="", sa_column=Column(CompressedText, nullable=False))
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=128)
    created_at: float
    stored_by: str | None = Field(default=None, max_length=128)
    stored_at: float | None = None


class StoredObject(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "stored_object"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    media_type: str = Field(max_length=128)
    created_at: float
    # Set by a takedown: the bytes are served to nobody from then on and destroyed later.
    blocked_at: float | None = None


class Attachment(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    version: int
    sha256: str = Field(foreign_key="stored_object.sha256", max_length=64, index=True)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=128)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_by: str = Field(max_length=128)
    created_at: float


class IndexCounter(Base, table=True):  # type: ignore[call-arg]
    """The last 索引号 serial handed out per issuing organisation and year."""

    __tablename__ = "index_counter"

    org_code: str = Field(primary_key=True, max_length=64)
    year: int = Field(primary_key=True)
    last_serial: int = 0


class Usage(Base, table=True):  # type: ignore[call-arg]
    """One publication that pins a resource version, as content's feed last described it."""

    __tablename__ = "resource_usage"

    publication_id: int = Field(primary_key=True)
    resource_id: int = Field(index=True)
    resource_version: int
    site: str = Field(max_length=64)
    column_id: int | None = None
    status: str = Field(max_length=16)
    title: str = Field(default="", max_length=300)
    event_cursor: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: float


class RetireAudit(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "retire_audit"

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(index=True)
    actor: str = Field(max_length=128)
    actor_name: str = Field(default="", max_length=128)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    forced: bool = False
    withdrawn: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    at: float


class Takedown(Base, table=True):  # type: ignore[call-arg]
    """A platform administrator's takedown of a resource or of one object (leaked personal data)."""

    __tablename__ = "takedown"

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int | None = Field(default=None, index=True)
    sha256: str | None = Field(default=None, max_length=64, index=True)
    objects: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    actor: str = Field(max_length=128)
    actor_name: str = Field(default="", max_length=128)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: float
    # When the retention period ends and the worker destroys the bytes; purged_at once done.
    purge_after: float = Field(index=True)
    purged_at: float | None = None
