"""Tables of the interaction service, one module per domain; its own metadata, its own database or schema.

Instants are epoch seconds (float) as in the other services; dates of deadlines are dates in
Asia/Shanghai, because a working day is a date, not an instant.
"""

from services.interaction.models.base import Base, feed_tables, metadata
from services.interaction.models.common import AuditEntry, CalendarYear
from services.interaction.models.consultations import Consultation, ConsultationComment, Survey, SurveyAnswer
from services.interaction.models.interviews import Interview, InterviewEntry, InterviewQuestion
from services.interaction.models.letters import (
    ErrorReport,
    Letter,
    LetterEvent,
    Mailbox,
    Rating,
    Rectification,
)
from services.interaction.models.subscriptions import (
    SiteMailTemplate,
    Subscription,
    SubscriptionDelivery,
    SubscriptionDigest,
    SubscriptionItem,
    SubscriptionKeyword,
)

__all__ = [
    "AuditEntry",
    "Base",
    "CalendarYear",
    "Consultation",
    "ConsultationComment",
    "ErrorReport",
    "Interview",
    "InterviewEntry",
    "InterviewQuestion",
    "Letter",
    "LetterEvent",
    "Mailbox",
    "Rating",
    "Rectification",
    "SiteMailTemplate",
    "Subscription",
    "SubscriptionDelivery",
    "SubscriptionDigest",
    "SubscriptionItem",
    "SubscriptionKeyword",
    "Survey",
    "SurveyAnswer",
    "feed_tables",
    "metadata",
]
