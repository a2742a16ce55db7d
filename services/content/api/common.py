"""Dependencies the content routers share."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import httpx
from fastapi import Depends, Request

from services.content.service.common import ContentState, ensure_member, holds
from services.content.settings import ContentSettings
from services.kernel.auth import Principal
from services.kernel.deps import get_ctx
from services.kernel.errors import Forbidden
from services.kernel.roles import Role


def get_state(request: Request) -> ContentState:
    return get_ctx(request).state_of(ContentState)


def get_settings(request: Request) -> ContentSettings:
    settings = get_ctx(request).settings
    if not isinstance(settings, ContentSettings):
        raise RuntimeError("the content app runs with ContentSettings")
    return settings


def syndication_deadline(settings: Annotated[ContentSettings, Depends(get_settings)]) -> timedelta:
    return timedelta(hours=settings.content_syndication_hours)


def resources_client(request: Request) -> httpx.AsyncClient:
    return get_ctx(request).directory.client("resources")


def require(principal: Principal, code: str, *roles: Role) -> None:
    """Member of the site (else 404) holding one of `roles` there (else 403)."""
    ensure_member(principal, code)
    if not holds(principal, code, *roles):
        raise Forbidden(f"需要站点 {code} 的 {'/'.join(roles)} 角色")


StateDep = Annotated[ContentState, Depends(get_state)]
SettingsDep = Annotated[ContentSettings, Depends(get_settings)]
DeadlineDep = Annotated[timedelta, Depends(syndication_deadline)]
ResourcesDep = Annotated[httpx.AsyncClient, Depends(resources_client)]
