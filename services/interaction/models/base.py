"""The interaction service's declarative base: its own metadata, its own database or schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import SQLModel

from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables

if TYPE_CHECKING:  # mypy sees an ordinary SQLModel base; at runtime it has its own metadata
    Base = SQLModel
else:
    Base = service_base("interaction")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)
