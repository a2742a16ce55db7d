"""Tables of the search service; its own metadata, its own database or schema."""

from __future__ import annotations

from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables

Base = service_base("search")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)
