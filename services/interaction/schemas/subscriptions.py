"""Subscriptions of signed-in citizens to a site's columns, topics, genres or keywords,
delivered by e-mail, and the citizen's own feed of what they matched."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from services.interaction.vocab import Rhythm, SubscriptionStatus, SubscriptionTarget
from services.kernel.mail import EmailAddress

MAX_KEYWORDS = 20
# No LIKE metacharacters: a keyword is matched as a substring of the item's analysed text.
Keyword = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20, pattern=r"^[^%_\\\s,]+$")
]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_-]{1,64}$")]


class SubscriptionIn(BaseModel):
    target: SubscriptionTarget | None = Field(
        None,
        description="订阅对象；不填时有 column_id 为栏目，否则为整个站点；letters 为本人来信的办理状态",
    )
    column_id: int | None = Field(None, ge=1, le=2**53, description="栏目编号（target=column）")
    code: Code | None = Field(None, description="主题分类或体裁代码（target=topic/genre），取值见资源库词表")
    keywords: list[Keyword] = Field(
        default_factory=list, max_length=MAX_KEYWORDS, description="关键词（target=keywords），同义词一并匹配"
    )
    email: EmailAddress
    rhythm: Rhythm = Rhythm.IMMEDIATE

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.target is None:
            self.target = SubscriptionTarget.COLUMN if self.column_id else SubscriptionTarget.SITE
        wants = {
            SubscriptionTarget.COLUMN: (self.column_id is not None, "column_id"),
            SubscriptionTarget.TOPIC: (self.code is not None, "code"),
            SubscriptionTarget.GENRE: (self.code is not None, "code"),
            SubscriptionTarget.KEYWORDS: (bool(self.keywords), "keywords"),
            SubscriptionTarget.SITE: (True, ""),
            SubscriptionTarget.LETTERS: (True, ""),
        }
        present, name = wants[self.target]
        if not present:
            raise ValueError(f"订阅对象 {self.target} 需要 {name}")
        extra = {
            "column_id": self.column_id is not None and self.target != SubscriptionTarget.COLUMN,
            "code": self.code is not None
            and self.target not in (SubscriptionTarget.TOPIC, SubscriptionTarget.GENRE),
            "keywords": bool(self.keywords) and self.target != SubscriptionTarget.KEYWORDS,
        }
        if any(extra.values()):
            raise ValueError(f"订阅对象 {self.target} 不接受 {', '.join(k for k, v in extra.items() if v)}")
        if self.target == SubscriptionTarget.LETTERS and self.rhythm != Rhythm.IMMEDIATE:
            # A letter's new state is news for its writer now, not in tomorrow's digest.
            raise ValueError("本人来信办理状态的订阅只能即时推送（rhythm=immediate）")
        return self


class SubscriptionOut(BaseModel):
    id: int
    site: str
    target: SubscriptionTarget
    column_id: int | None
    code: str | None
    keywords: list[str]
    email: str
    rhythm: Rhythm
    status: SubscriptionStatus
    created_at: float
    confirmed_at: float | None


class SubscriptionCreatedOut(SubscriptionOut):
    confirmation_sent: bool = Field(description="确认邮件是否已交给邮件服务器；否则可重新订阅再发")


class SubscriptionsOut(BaseModel):
    items: list[SubscriptionOut]


class FeedItemOut(BaseModel):
    publication_id: int
    site: str
    site_name: str
    column_id: int
    title: str
    url: str
    important: bool
    published_at: float


class FeedOut(BaseModel):
    """Newest first; `next_cursor` (when set) fetches the older ones."""

    items: list[FeedItemOut]
    next_cursor: str | None
