"""Dead deliveries as the site's staff see them."""

from __future__ import annotations

from pydantic import BaseModel


class DeadDeliveryOut(BaseModel):
    id: int
    subscription_id: int
    publication_id: int
    email: str
    title: str
    important: bool
    attempts: int
    last_error: str
    created_at: float


class DeadDeliveryPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[DeadDeliveryOut]
