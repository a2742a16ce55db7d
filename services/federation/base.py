"""The federation service's declarative base and metadata, apart from the table modules so that
models.py and shared_models.py both build on it without importing each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import SQLModel

from services.kernel.db import service_base

if TYPE_CHECKING:
    Base = SQLModel
else:
    Base = service_base("federation")
metadata = Base.metadata
