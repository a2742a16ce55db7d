"""FastAPI dependencies every service's routers share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import Principal
from services.kernel.context import ServiceContext
from services.kernel.edge import CLIENT_IP_HEADER, EDGE_SCOPE_KEY, TENANT_HEADER, EdgeContext
from services.kernel.errors import Forbidden, NotFound, Unauthorized
from services.kernel.pagination import MAX_PAGE_SIZE, PageParams


def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[ServiceContext, Depends(get_ctx)]


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_ctx(request).db.session() as session:
        yield session


# scope="function": commit before the response leaves, never after.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization 头须为 Bearer 令牌")
    return token.strip()


async def optional_principal(request: Request) -> Principal | None:
    token = bearer_token(request)
    if token is None:
        return None
    principal = await get_ctx(request).verifier.verify(token)
    request.state.principal = principal
    return principal


async def current_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise Unauthorized("需要登录")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]


def _gateway_context(request: Request) -> EdgeContext:
    """What the gateway said about this request.

    On a service's own socket (split mode) the EdgeGuard has verified the signed context and
    refused unsigned copies; in one process the headers can only have come from the gateway
    (it strips a client's copies) or from a sibling service, both internal.
    """
    verified: EdgeContext | None = request.scope.get(EDGE_SCOPE_KEY)
    if verified is not None:
        return verified
    return EdgeContext(request.headers.get(TENANT_HEADER) or None, request.headers.get(CLIENT_IP_HEADER))


def client_ip(request: Request) -> str:
    """The caller's address: as the gateway saw it, or the socket's peer."""
    forwarded = _gateway_context(request).client
    if forwarded:
        return forwarded
    return request.client.host if request.client else "unknown"


def current_site(request: Request) -> str | None:
    return _gateway_context(request).site


def required_site(request: Request) -> str:
    site = current_site(request)
    if not site:
        raise NotFound("未能确定站点：请通过站点域名或 /sites/{code}/ 前缀访问")
    return site


SiteDep = Annotated[str | None, Depends(current_site)]
RequiredSiteDep = Annotated[str, Depends(required_site)]


def page_params(
    page: Annotated[int, Query(ge=1, le=10_000, description="页码，从 1 开始")] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页条数")] = 20,
) -> PageParams:
    return PageParams(page=page, size=size)


PageDep = Annotated[PageParams, Depends(page_params)]


def require_scope(scope: str):  # type: ignore[no-untyped-def]
    async def check(principal: PrincipalDep) -> Principal:
        if not (principal.has_scope(scope) or principal.has_role("platform_admin")):
            raise Forbidden(f"需要权限范围 {scope}")
        return principal

    return check
