"""The sign-in page of the authorization endpoint: server-rendered, no JavaScript needed.

CSRF: a double-submit token (a SameSite=Strict cookie that must equal the hidden form field).
Clickjacking: the page refuses to be framed (X-Frame-Options and CSP frame-ancestors).
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.api.common import RuntimeDep
from services.identity.service import audit, federation
from services.identity.service.authorize import (
    SSO_COOKIE,
    AuthRequest,
    RedirectError,
    end_sso,
    issue_code,
    sso_user,
    start_sso,
    validate_request,
    with_query,
)
from services.identity.service.common import Actor, OAuthError
from services.identity.service.signin import SignInFailure, authenticate
from services.identity.settings import IdentitySettings
from services.kernel.deps import SessionDep, client_ip

router = APIRouter(tags=["OAuth 2 / OIDC"])

CSRF_COOKIE = "jiyue_csrf"
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def html_page(
    status: int, *, redirect_uri: str = "", csrf: str | None = None, secure: bool = False, **context: Any
) -> HTMLResponse:
    context.setdefault("title", "统一身份认证登录")
    context.setdefault("show_form", False)
    html = _templates.get_template("authorize.html").render(**context)
    form_targets = " ".join(t for t in ("'self'", _origin(redirect_uri)) if t)
    response = HTMLResponse(html, status_code=status)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; form-action {form_targets}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if csrf is not None:
        response.set_cookie(
            CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure, path="/", max_age=3600
        )
    return response


def _form_page(
    req: AuthRequest,
    client_name: str,
    request: Request,
    settings: IdentitySettings,
    *,
    error: str = "",
    username: str = "",
    status: int = 200,
    federated: list[tuple[str, str]] | None = None,
) -> HTMLResponse:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    return html_page(
        status,
        redirect_uri=req.redirect_uri,
        csrf=csrf,
        secure=use_secure_cookies(request, settings),
        show_form=True,
        client_name=client_name,
        request_fields=req.as_form(),
        csrf_token=csrf,
        error=error,
        username=username,
        federated=federated or [],
    )


async def federated_links(session: AsyncSession, req: AuthRequest) -> list[tuple[str, str]]:
    """One link per active trusted issuer, carrying our client's request along (relative to
    this page, so that it works under a /sites/{code}/ prefix too)."""
    query = urlencode(req.as_form())
    return [
        (row.name, f"federation/{row.code}/signin?{query}")
        for row in await federation.list_issuers(session, active_only=True)
    ]


def use_secure_cookies(request: Request, settings: IdentitySettings) -> bool:
    """Behind a TLS-terminating gateway identity sees plain http: the public URL decides."""
    return request.url.scheme == "https" or settings.public_url.lower().startswith("https://")


def see_other(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


_PAGE: dict[int | str, dict[str, Any]] = {
    200: {"description": "登录页", "content": {"text/html": {"schema": {"type": "string"}}}},
    303: {"description": "回到客户端的回调地址（带 code 与 state，或 error）"},
    400: {"description": "请求有误（错误页，不跳转到未经核实的地址）", "content": {"text/html": {}}},
    401: {"description": "用户名或密码错误（重新显示登录页）", "content": {"text/html": {}}},
    403: {"description": "CSRF 校验失败", "content": {"text/html": {}}},
}


@router.get(
    "/authorize",
    summary="授权端点：登录页（已登录则直接返回授权码）",
    response_class=HTMLResponse,
    responses=_PAGE,
)
async def authorize_page(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    params = dict(request.query_params)
    try:
        client, req = await validate_request(session, params)
    except OAuthError as exc:
        return html_page(400, error=exc.description)
    except RedirectError as exc:
        return see_other(exc.location)
    found = await sso_user(session, request.cookies.get(SSO_COOKIE))
    if found is not None and params.get("prompt") != "login":
        sso, user = found
        await audit.record(
            session,
            Actor(user.username, client_ip(request)),
            "signin.sso",
            user.username,
            {"client": client.client_id},
        )
        return see_other(await issue_code(session, rt, req, user, sso.auth_time))
    if params.get("prompt") == "none":
        return see_other(with_query(req.redirect_uri, {"error": "login_required", "state": req.state}))
    return _form_page(req, client.name, request, rt.settings, federated=await federated_links(session, req))


@router.post("/authorize", summary="授权端点：提交用户名与密码", response_class=HTMLResponse, responses=_PAGE)
async def authorize_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    cookie = request.cookies.get(CSRF_COOKIE, "")
    submitted = fields.get("csrf_token", "")
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        return html_page(403, error="页面已过期或请求来源不可信（CSRF 校验失败），请返回重新打开登录页。")
    try:
        client, req = await validate_request(session, fields)
    except OAuthError as exc:
        return html_page(400, error=exc.description)
    except RedirectError as exc:
        return see_other(exc.location)
    username = fields.get("username", "").strip()
    try:
        user = await authenticate(
            session, rt, username, fields.get("password", ""), client_ip(request), via=client.client_id
        )
    except SignInFailure as exc:
        await session.commit()  # keep the failure counters and the audit rows
        return _form_page(
            req,
            client.name,
            request,
            rt.settings,
            error=exc.message,
            username=username,
            status=401,
            federated=await federated_links(session, req),
        )
    value, sso = await start_sso(session, rt, user)
    response = see_other(await issue_code(session, rt, req, user, sso.auth_time))
    response.set_cookie(
        SSO_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=use_secure_cookies(request, rt.settings),
        path="/",
        max_age=rt.settings.sso_session_ttl_seconds,
    )
    return response


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="退出统一登录（结束单点登录会话）",
    responses={204: {"description": "已退出（无响应体）"}},
)
async def logout(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    user = await end_sso(session, request.cookies.get(SSO_COOKIE))
    if user is not None:
        await audit.record(session, Actor(user.username, client_ip(request)), "signout", user.username, {})
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(
        SSO_COOKIE, path="/", httponly=True, samesite="lax", secure=use_secure_cookies(request, rt.settings)
    )
    return response
