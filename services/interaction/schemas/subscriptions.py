"""Subscriptions of signed-in citizens to a site's columns, delivered by e-mail."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.interaction.vocab import Rhythm, SubscriptionStatus
from services.kernel.mail import EmailAddress


class SubscriptionIn(BaseModel):
    column_id: int | None = Field(None, ge=1, le=2**53, description="栏目编号；不填为整个站点")
    email: EmailAddress
    rhythm: Rhythm = Rhythm.IMMEDIATE


class SubscriptionOut(BaseModel):
    id: int
    site: str
    column_id: int | None
    email: str
    rhythm: Rhythm
    status: SubscriptionStatus
    created_at: float
    confirmed_at: float | None


class SubscriptionCreatedOut(SubscriptionOut):
    confirmation_sent: bool = Field(description="确认邮件是否已交给邮件服务器；否则可重新订阅再发")


class SubscriptionsOut(BaseModel):
    items: list[SubscriptionOut]
