"""Closed vocabularies of federation."""

from __future__ import annotations

from enum import StrEnum


class PeerScope(StrEnum):
    """What a peer's machine client may read or do on this platform."""

    FEED = "peer:feed"  # public items going live and withdrawn
    REGISTRY = "peer:registry"  # the site registry (网站基本信息 and status changes)
    REPORTS = "peer:reports"  # annual reports addressed to it, and review states of its own
    RESOURCES = "peer:resources"  # resources we share: metadata, versions, usage registration
    TASKS = "peer:tasks"  # submit re-publication tasks (转载) for our sites (opens no feed topic)


class FollowKind(StrEnum):
    FEED = "feed"
    REGISTRY = "registry"
    REPORTS = "reports"


class PeerStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Topic(StrEnum):
    PUBLISHED = "public.published"
    WITHDRAWN = "public.withdrawn"
    SITE = "registry.site"
    REPORT_SUBMITTED = "report.submitted"
    REPORT_REVIEWED = "report.reviewed"


class ReportState(StrEnum):
    SUBMITTED = "submitted"  # sent up, awaiting the peer's review
    ACCEPTED = "accepted"
    RETURNED = "returned"  # the peer sent it back with an opinion; it may be submitted again


# Report events are addressed (payload `to`): a peer reads only those meant for it.
ADDRESSED_TOPICS = frozenset({Topic.REPORT_SUBMITTED, Topic.REPORT_REVIEWED})


# Which of our feed's topics each scope opens, and which a follow kind asks for.
SCOPE_TOPICS: dict[PeerScope, tuple[Topic, ...]] = {
    PeerScope.FEED: (Topic.PUBLISHED, Topic.WITHDRAWN),
    PeerScope.REGISTRY: (Topic.SITE,),
    PeerScope.REPORTS: (Topic.REPORT_SUBMITTED, Topic.REPORT_REVIEWED),
}
FOLLOW_TOPICS: dict[FollowKind, tuple[Topic, ...]] = {
    FollowKind.FEED: (Topic.PUBLISHED, Topic.WITHDRAWN),
    FollowKind.REGISTRY: (Topic.SITE,),
    FollowKind.REPORTS: (Topic.REPORT_SUBMITTED, Topic.REPORT_REVIEWED),
}


class UsageState(StrEnum):
    """A peer's placement of a shared resource, as the peer registered it."""

    PLACED = "placed"
    WITHDRAWN = "withdrawn"
