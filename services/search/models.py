"""Tables of the search service; its own metadata, its own database or schema.

`search_document` is the consumer's durable copy of every publication it has heard of; the
engine index is a projection of it. Recording the document and the feed cursor in one
transaction, then pushing `dirty` rows to the engine, is what makes indexing crash-safe with
an engine that has its own commit (tantivy, Elasticsearch) outside the database transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime
from sqlmodel import Field

from services.kernel.columns import CompressedJSON
from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables

if TYPE_CHECKING:  # the runtime base is built by a factory mypy cannot follow
    from sqlmodel import SQLModel as Base
else:
    Base = service_base("search")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)


class SearchDocument(Base, table=True):
    __tablename__ = "search_document"

    publication_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    resource_id: int = Field(index=True)
    site: str = Field(max_length=64, index=True)
    status: str = Field(max_length=32)
    # Compressed: it holds the whole body text, and only the ORM ever reads it (whole).
    payload: dict[str, Any] = Field(sa_column=Column(CompressedJSON, nullable=False))
    # bumped on every change; a flush clears `dirty` only if nothing changed meanwhile
    revision: int = Field(default=0)
    dirty: bool = Field(default=True, index=True)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class QueryLog(Base, table=True):
    """Anonymised query log for statistics: no token, no address, only a salted hash."""

    __tablename__ = "query_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    client_hash: str = Field(max_length=32)
    query: str = Field(max_length=200)
    scope: str = Field(max_length=16)
    site: str | None = Field(default=None, max_length=64)
    total: int
    took_ms: float
