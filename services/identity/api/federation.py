"""Identity federation: the trusted issuers (security administrator), what their claims
mapped to (security and audit administrators), and the browser's round trip to an issuer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.identity.api.common import RuntimeDep, actor_of
from services.identity.api.signin import html_page, see_other, use_secure_cookies
from services.identity.schemas import (
    FederatedSignInOut,
    TrustedIssuerIn,
    TrustedIssuerOut,
    TrustedIssuerPatch,
)
from services.identity.service import audit, federated_signin, federation
from services.identity.service.access import require_federation_reader, require_security_admin
from services.identity.service.authorize import (
    RedirectError,
    issue_code,
    validate_request,
)
from services.identity.service.common import Actor, OAuthError, now
from services.identity.service.federation_client import FederationFailure
from services.kernel.deps import PageDep, PrincipalDep, SessionDep, client_ip
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.pagination import Page

router = APIRouter(tags=["联合登录"])
_WRITE = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)
_READ = problem_responses(Unauthorized, Forbidden, NotFound)


@router.post(
    "/federation/issuers",
    response_model=TrustedIssuerOut,
    status_code=201,
    summary="登记受信的外部签发方（如省级平台）及其声明到本平台角色的映射",
    responses=_WRITE,
)
async def create_issuer(
    data: TrustedIssuerIn, principal: PrincipalDep, session: SessionDep, rt: RuntimeDep, request: Request
) -> TrustedIssuerOut:
    require_security_admin(principal)
    row = await federation.create_issuer(session, rt, data, actor_of(principal, request))
    return federation.issuer_out(row, rt.settings)


@router.get(
    "/federation/issuers", response_model=list[TrustedIssuerOut], summary="受信的外部签发方", responses=_READ
)
async def list_issuers(
    principal: PrincipalDep, session: SessionDep, rt: RuntimeDep
) -> list[TrustedIssuerOut]:
    require_federation_reader(principal)
    return [federation.issuer_out(r, rt.settings) for r in await federation.list_issuers(session)]


@router.get(
    "/federation/issuers/{code}",
    response_model=TrustedIssuerOut,
    summary="一个受信的外部签发方",
    responses=_READ,
)
async def get_issuer(
    code: str, principal: PrincipalDep, session: SessionDep, rt: RuntimeDep
) -> TrustedIssuerOut:
    require_federation_reader(principal)
    return federation.issuer_out(await federation.issuer_by_code(session, code), rt.settings)


@router.patch(
    "/federation/issuers/{code}",
    response_model=TrustedIssuerOut,
    summary="修改受信签发方（映射、客户端、停用）；映射的前后都记入审计日志",
    responses=_WRITE,
)
async def update_issuer(
    code: str,
    data: TrustedIssuerPatch,
    principal: PrincipalDep,
    session: SessionDep,
    rt: RuntimeDep,
    request: Request,
) -> TrustedIssuerOut:
    require_security_admin(principal)
    row = await federation.update_issuer(session, rt, code, data, actor_of(principal, request))
    return federation.issuer_out(row, rt.settings)


@router.get(
    "/federation/issuers/{code}/signins",
    response_model=Page[FederatedSignInOut],
    summary="映射报告：每次联合登录的声明映射到了什么、哪些未映射（新的在前）",
    responses=_READ,
)
async def list_signins(
    code: str,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    unmapped: Annotated[bool, Query(description="只看有未映射声明的登录")] = False,
) -> Page[FederatedSignInOut]:
    require_federation_reader(principal)
    items, total = await federation.signins(session, code, page.offset, page.size, unmapped)
    return Page(total=total, page=page.page, size=page.size, items=items)


_BROWSER: dict[int | str, dict[str, Any]] = {
    303: {"description": "转到签发方的登录页，或回到本平台客户端的回调地址（带 code 与 state）"},
    400: {"description": "请求有误或登录未能完成（错误页）", "content": {"text/html": {}}},
    502: {"description": "签发方暂时无法访问（错误页）", "content": {"text/html": {}}},
}


def _failure_page(exc: FederationFailure) -> HTMLResponse:
    return html_page(502 if exc.unreachable else 400, title="联合登录", error=exc.message)


@router.get(
    "/federation/{code}/signin",
    summary="使用受信签发方的账号登录：转到其登录页（参数同授权端点）",
    response_class=HTMLResponse,
    responses=_BROWSER,
)
async def federated_start(code: str, request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    try:
        _, req = await validate_request(session, dict(request.query_params))
    except OAuthError as exc:
        return html_page(400, error=exc.description)
    except RedirectError as exc:
        return see_other(exc.location)
    try:
        issuer = await federation.issuer_by_code(session, code)
    except NotFound:
        return html_page(400, title="联合登录", error="该登录方式不存在")
    browser = request.cookies.get(federated_signin.BROWSER_COOKIE)
    try:
        location, browser = await federated_signin.start(session, rt, issuer, req, browser)
    except FederationFailure as exc:
        await audit.record(
            session,
            Actor("-", client_ip(request)),
            "federation.refused",
            code,
            {"stage": "start", "reason": exc.reason},
        )
        return _failure_page(exc)
    response = see_other(location)
    response.set_cookie(
        federated_signin.BROWSER_COOKIE,
        browser,
        httponly=True,
        # Lax: the issuer's redirect back is a top-level navigation, which Lax lets through.
        samesite="lax",
        secure=use_secure_cookies(request, rt.settings),
        path="/",
        max_age=rt.settings.identity_federation_login_seconds,
    )
    return response


@router.get(
    "/federation/callback",
    summary="受信签发方登录后的回调：核验 ID 令牌、按映射授予角色，再回到本平台客户端",
    response_class=HTMLResponse,
    responses=_BROWSER,
)
async def federated_callback(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    address = client_ip(request)
    issuer_code = "-"
    try:
        login, issuer = await federated_signin.take_login(
            session, state, request.cookies.get(federated_signin.BROWSER_COOKIE)
        )
        issuer_code = issuer.code
        # The state is spent for good before the slow part, whatever happens next.
        await session.commit()
        if error or not code:
            raise FederationFailure(f"issuer answered error={error or 'no code'}", "未在省级平台完成登录")
        redeemed = await rt.federation.redeem(
            federation.issuer_client(rt, issuer),
            code,
            federation.callback_uri(rt.settings),
            login.code_verifier,
            login.nonce,
        )
        outcome = await federated_signin.complete(session, rt, issuer, redeemed, address)
    except FederationFailure as exc:
        await session.rollback()
        await audit.record(
            session,
            Actor("-", address),
            "federation.refused",
            issuer_code,
            {"stage": "callback", "reason": exc.reason},
        )
        return _failure_page(exc)
    try:  # our client may have been disabled while the person was away
        _, req = await validate_request(session, {k: str(v) for k, v in login.request.items()})
    except OAuthError as exc:
        return html_page(400, error=exc.description)
    except RedirectError as exc:
        return see_other(exc.location)
    # No single sign-on session here for a federated person: each sign-in goes round the
    # issuer again (its own session answers at once), so each re-evaluates the mapping and a
    # role the issuer took away is gone here at the next sign-in, not hours later.
    response = see_other(await issue_code(session, rt, req, outcome.user, now()))
    response.delete_cookie(federated_signin.BROWSER_COOKIE, path="/")
    return response
