"""Running machine review: in a worker thread, within a size the caller's roles allow.

Reviewing 5 MB of HTML takes seconds of CPU; on the event loop that stalls every request of
the process. A thread keeps the loop answering; the per-role limit keeps a citizen's account
from queueing megabytes of work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from services.kernel.auth import Principal
from services.kernel.roles import ADMIN_ROLES, SITE_STAFF_ROLES
from services.resources.review import Review, Reviewer
from services.resources.settings import ResourcesSettings


def is_staff(principal: Principal) -> bool:
    """Any site-staff binding anywhere, an administrator, or the internal client."""
    return principal.is_internal or any(b.role in (*ADMIN_ROLES, *SITE_STAFF_ROLES) for b in principal.roles)


def check_limit(principal: Principal, settings: ResourcesSettings) -> int:
    if is_staff(principal):
        return settings.resources_check_max_chars_staff
    return settings.resources_check_max_chars_public


async def review_off_loop(
    reviewer: Reviewer,
    *,
    text: str | None = None,
    html: str | None = None,
    title: str | None = None,
    own_names: Sequence[str] = (),
    previous: str | None = None,
) -> Review:
    return await asyncio.to_thread(
        reviewer.review, text=text, html=html, title=title, own_names=own_names, previous=previous
    )
