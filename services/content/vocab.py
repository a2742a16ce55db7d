"""The closed vocabularies of the content service: every state and kind is named once, here."""

from __future__ import annotations

from enum import StrEnum


class PublicationState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    ARCHIVED = "archived"


class SiteStatus(StrEnum):
    APPLYING = "applying"
    ONLINE = "online"
    SUSPENDED = "suspended"
    OFFLINE = "offline"


class SiteKind(StrEnum):
    PORTAL = "portal"
    DEPARTMENT = "department"


class ColumnKind(StrEnum):
    LIST = "list"
    SINGLE = "single"
    LINK = "link"


class Action(StrEnum):
    """What a caller may do to a publication (the last segment of the action route)."""

    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    ARCHIVE = "archive"


class RecordAction(StrEnum):
    """What a review record says happened: the actions plus a publish deferred to its time."""

    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    PUBLISH = "publish"
    SCHEDULE = "schedule"
    WITHDRAW = "withdraw"
    ARCHIVE = "archive"
    # Somebody tried to review an item they wrote or submitted.
    REFUSED = "refused"


class FeedState(StrEnum):
    """The suffix of a `publication.*` feed topic."""

    CREATED = "created"
    SUBMITTED = "submitted"
    UPDATED = "updated"
    MOVED = "moved"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    ARCHIVED = "archived"


class TaskState(StrEnum):
    """A re-publication task: met when the copy is live, drafted while it awaits review."""

    PENDING = "pending"
    DRAFTED = "drafted"
    DONE = "done"
    CANCELLED = "cancelled"
    # Failed every allowed try: a dead letter, waiting for an operator's retry.
    DEAD = "dead"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    # Given up at once: the channel is inactive or its address is refused.
    FAILED = "failed"
    # Failed every allowed try: a dead letter, waiting for an operator's retry.
    DEAD = "dead"


class DeadLetterKind(StrEnum):
    PUSH = "push"
    NEW_MEDIA = "new_media"
    SYNDICATION = "syndication"


class Worker(StrEnum):
    """In-process workers a commit can wake."""

    SYNDICATION = "syndication"
    PUSH = "push"
    NEW_MEDIA = "new_media"


class NewMediaPlatform(StrEnum):
    """Where a government new-media account (政务新媒体) lives."""

    WEIBO = "weibo"
    WECHAT = "wechat"
    DOUYIN = "douyin"
    TOUTIAO = "toutiao"
    APP = "app"
    OTHER = "other"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class NewMediaTaskState(StrEnum):
    PENDING = "pending"
    # Claimed by a worker and leased; a try that never reports back is taken again after the lease.
    SENDING = "sending"
    DELIVERED = "delivered"
    RETRYING = "retrying"
    # Failed every allowed try (or its address was refused): waits for an administrator's retry.
    DEAD = "dead"


# Publications a reader may see on a hosted site.
VISIBLE_STATES: tuple[PublicationState, ...] = (PublicationState.PUBLISHED, PublicationState.ARCHIVED)
EDITABLE_STATES: tuple[PublicationState, ...] = (PublicationState.DRAFT,)
# Tasks not yet met: the ones that can still be overdue (and a withdrawn source cancels).
OPEN_TASK_STATES: tuple[TaskState, ...] = (TaskState.PENDING, TaskState.DRAFTED, TaskState.DEAD)


class ImportJobState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"


class ImportFailure(StrEnum):
    """Why a line of an import bundle was not imported (docs/import-format.md)."""

    MALFORMED = "malformed"
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    UNKNOWN_COLUMN = "unknown_column"
    MISSING_ATTACHMENT = "missing_attachment"
    UNKNOWN_RELATION = "unknown_relation"
    REVIEW_BLOCKED = "review_blocked"
    REJECTED = "rejected"
