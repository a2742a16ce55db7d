"""Citizens' subscriptions (个性定制) and their deliveries (内容推送)."""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from services.interaction.models.base import Base


class Subscription(Base, table=True):  # type: ignore[call-arg]
    """A citizen's e-mail subscription, opted in twice, to one target: a column (column_id), the
    whole site, a topic or genre code (term), keywords (term: the sorted words, each expanded in
    SubscriptionKeyword) or their own letters."""

    __tablename__ = "subscription"
    # 0 and "" rather than NULL, so the database holds one row per target and address.
    __table_args__ = (
        UniqueConstraint("site", "target", "column_id", "term", "subscriber", "email"),
        Index("ix_subscription_match", "site", "column_id", "status"),
        Index("ix_subscription_term", "site", "target", "term", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    target: str = Field(default="column", max_length=16)
    column_id: int = 0
    term: str = Field(default="", max_length=500)
    subscriber: str = Field(max_length=128, index=True)
    email: str = Field(max_length=254)
    rhythm: str = Field(max_length=16)
    status: str = Field(max_length=16)
    created_at: float
    confirmed_at: float | None = None
    ended_at: float | None = None
    # Permanent (5xx) refusals in a row; a delivered message resets it.
    bounces: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SubscriptionKeyword(Base, table=True):  # type: ignore[call-arg]
    """One word a keyword subscription matches: each keyword and each of its synonyms."""

    __tablename__ = "subscription_keyword"

    subscription_id: int = Field(foreign_key="subscription.id", primary_key=True)
    word: str = Field(max_length=40, primary_key=True)


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
    # The page meta a message shows: publishing organisation, 文号, display date (Shanghai).
    issuer_org: str | None = Field(default=None, max_length=200)
    doc_no: str | None = Field(default=None, max_length=200)
    published_on: str | None = Field(default=None, max_length=10)


class SubscriptionDelivery(Base, table=True):  # type: ignore[call-arg]
    """One message to one subscriber about one item, or about a new state of one of their own
    letters (letter_id and letter_status instead of publication_id); unique so a replayed
    event adds nothing."""

    __tablename__ = "subscription_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "publication_id"),
        UniqueConstraint(
            "subscription_id", "letter_id", "letter_status", name="uq_subscription_delivery_letter_state"
        ),
        Index("ix_subscription_delivery_due", "status", "priority", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id")
    publication_id: int | None = Field(default=None, foreign_key="subscription_item.publication_id")
    letter_id: int | None = Field(default=None, foreign_key="letter.id")
    letter_status: str | None = Field(default=None, max_length=16)
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
    digest_id: int | None = Field(default=None, foreign_key="subscription_digest.id", index=True)


class SubscriptionDigest(Base, table=True):  # type: ignore[call-arg]
    """One digest message for one subscriber and period; unique, so assembling twice adds nothing."""

    __tablename__ = "subscription_digest"
    __table_args__ = (
        UniqueConstraint("subscription_id", "period"),
        Index("ix_subscription_digest_due", "status", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id")
    period: str = Field(max_length=40)  # "2026-12-03" (daily) or "2026-11-30~2026-12-06" (weekly)
    status: str = Field(max_length=16)
    attempts: int = 0
    next_at: float
    last_error: str | None = Field(default=None, max_length=500)
    created_at: float
    sent_at: float | None = None


class SiteMailTemplate(Base, table=True):  # type: ignore[call-arg]
    """A site's own subject, plain-text and HTML templates of subscription messages."""

    __tablename__ = "site_mail_template"

    site: str = Field(primary_key=True, max_length=64)
    subject: str = Field(max_length=500)
    text: str = Field(max_length=20000)
    html: str = Field(max_length=40000)
    updated_at: float
    updated_by: str = Field(max_length=128)
