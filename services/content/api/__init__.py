"""Routers of the content service: thin, the rules live in service modules."""

from __future__ import annotations

from services.content.api import admin, delivery, imports, internal, newmedia, operations, publishing, remote

routers = [
    admin.router,
    publishing.router,
    imports.router,
    operations.router,
    newmedia.router,
    delivery.router,
    internal.router,
    remote.router,
]

__all__ = ["routers"]
