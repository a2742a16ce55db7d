"""Closed vocabularies of federation."""

from __future__ import annotations

from enum import StrEnum


class PeerScope(StrEnum):
    """What a peer's machine client may read or do on this platform."""

    FEED = "peer:feed"  # public items going live and withdrawn
    REGISTRY = "peer:registry"  # the site registry (网站基本信息 and status changes)


class FollowKind(StrEnum):
    FEED = "feed"
    REGISTRY = "registry"


class PeerStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class Topic(StrEnum):
    PUBLISHED = "public.published"
    WITHDRAWN = "public.withdrawn"
    SITE = "registry.site"


# Which of our feed's topics each scope opens, and which a follow kind asks for.
SCOPE_TOPICS: dict[PeerScope, tuple[Topic, ...]] = {
    PeerScope.FEED: (Topic.PUBLISHED, Topic.WITHDRAWN),
    PeerScope.REGISTRY: (Topic.SITE,),
}
FOLLOW_TOPICS: dict[FollowKind, tuple[Topic, ...]] = {
    FollowKind.FEED: (Topic.PUBLISHED, Topic.WITHDRAWN),
    FollowKind.REGISTRY: (Topic.SITE,),
}
