"""Citizens' subscriptions (个性定制) and their deliveries (内容推送)."""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from services.interaction.models.base import Base


class Subscription(Base, table=True):  # type: ignore[call-arg]
    """A citizen's e-mail subscription to a column (column_id 0: the whole site), opted in twice."""

    __tablename__ = "subscription"
    # 0 rather than NULL for "whole site", so the database holds one row per scope and address.
    __table_args__ = (
        UniqueConstraint("site", "column_id", "subscriber", "email"),
        Index("ix_subscription_match", "site", "column_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    column_id: int = 0
    subscriber: str = Field(max_length=128, index=True)
    email: str = Field(max_length=254)
    rhythm: str = Field(max_length=16)
    status: str = Field(max_length=16)
    created_at: float
    confirmed_at: float | None = None
    ended_at: float | None = None
    # Permanent (5xx) refusals in a row; a delivered message resets it.
    bounces: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SubscriptionItem(Base, table=True):  # type: ignore[call-arg]
    """What a message says about one published item, stored once for all its deliveries."""

    __tablename__ = "subscription_item"

    publication_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    site: str = Field(max_length=64)
    site_name: str = Field(max_length=200)
    column_id: int
    title: str = Field(max_length=300)
    url: str = Field(max_length=1000)
    important: bool = False
    published_at: float


class SubscriptionDelivery(Base, table=True):  # type: ignore[call-arg]
    """One message to one subscriber about one item; unique so a replayed event adds nothing."""

    __tablename__ = "subscription_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "publication_id"),
        Index("ix_subscription_delivery_due", "status", "priority", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id")
    publication_id: int = Field(foreign_key="subscription_item.publication_id")
    priority: bool = False
    status: str = Field(max_length=16)
    attempts: int = 0
    next_at: float
    last_error: str | None = Field(default=None, max_length=500)
    created_at: float
    sent_at: float | None = None
    # While status is "sending": the claim's lease; a sender that crashed lets it run out and
    # another reclaims the row (at-least-once across a crash, exactly once otherwise).
    claimed_until: float | None = None
