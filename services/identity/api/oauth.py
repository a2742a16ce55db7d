"""The token, revocation, userinfo and registration endpoints."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from services.identity.api.common import RuntimeDep
from services.identity.models import User
from services.identity.schemas import RegisterIn, RevokeOut, TokenOut, UserIn, UserInfoOut, UserOut
from services.identity.service import accounts, tokens
from services.identity.service.authorize import exchange_code
from services.identity.service.common import Actor, OAuthError
from services.identity.service.signin import SignInFailure, authenticate
from services.identity.service.tokens import authenticate_client
from services.kernel.client import INTERNAL_CLIENT_ID
from services.kernel.deps import PrincipalDep, SessionDep, client_ip
from services.kernel.errors import Conflict, Unauthorized, ValidationFailed, problem_responses

router = APIRouter(tags=["OAuth 2 / OIDC"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The gateway sets this (a signed context) on every request it forwards and strips any copy a
# client sends; in-process tooling and service-to-service calls never carry it. Its mere
# presence means "came from outside", which is all the refusal below needs.
EDGE_HEADER = "x-jiyue-edge"
FormStr = Annotated[str | None, Form()]


def _oauth_error(exc: OAuthError, retry_after: int | None = None) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="jiyue"'
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=headers
    )


def _client_credentials(
    request: Request, client_id: str | None, secret: str | None
) -> tuple[str | None, str | None]:
    """client_secret_basic (RFC 6749 2.3.1, form-encoded parts) or client_secret_post."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "Authorization 头格式错误", 401) from exc
        basic_id, _, basic_secret = decoded.partition(":")
        return unquote(basic_id), unquote(basic_secret)
    return client_id, secret


def _refuse_internal_from_outside(request: Request, client_id: str | None) -> None:
    """The platform's machine client is for service-to-service calls only: a leaked secret
    must not mint `internal` tokens through the public endpoint."""
    if client_id == INTERNAL_CLIENT_ID and EDGE_HEADER in request.headers:
        raise OAuthError("invalid_client", "内部客户端不能从外部网络申请令牌", 401)


@router.post(
    "/token",
    response_model=TokenOut,
    summary="令牌端点（password / refresh_token / client_credentials / authorization_code+PKCE）",
    responses={400: {"description": "RFC 6749 错误：error, error_description"}},
)
async def token(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    grant_type: Annotated[str, Form()],
    client_id: FormStr = None,
    client_secret: FormStr = None,
    scope: FormStr = None,
    username: FormStr = None,
    password: FormStr = None,
    refresh_token: FormStr = None,
    code: FormStr = None,
    redirect_uri: FormStr = None,
    code_verifier: FormStr = None,
) -> Any:
    address = client_ip(request)
    try:
        cid, secret = _client_credentials(request, client_id, client_secret)
        _refuse_internal_from_outside(request, cid)
        client = await authenticate_client(session, cid, secret)
        if grant_type == "client_credentials":
            out = await tokens.client_token(session, rt, client, scope)
        elif grant_type == "password":
            tokens.require_grant(client, "password")
            if not username or not password:
                raise OAuthError("invalid_request", "缺少 username 或 password")
            requested = tokens.grant_scope(client, scope)
            user = await authenticate(session, rt, username, password, address, via=client.client_id)
            out = await tokens.tokens_for_user(session, rt, user, client, requested)
        elif grant_type == "refresh_token":
            if not refresh_token:
                raise OAuthError("invalid_request", "缺少 refresh_token")
            out = await tokens.refresh(session, rt, client, refresh_token, scope, address)
        elif grant_type == "authorization_code":
            if not code or not redirect_uri or not code_verifier:
                raise OAuthError("invalid_request", "缺少 code、redirect_uri 或 code_verifier")
            out = await exchange_code(session, rt, client, code, redirect_uri, code_verifier, address)
        else:
            raise OAuthError("unsupported_grant_type", f"不支持的授权类型 {grant_type}")
    except SignInFailure as exc:
        await session.commit()  # keep the failure counters and the audit rows
        status = 429 if exc.retry_after else 400
        return _oauth_error(OAuthError("invalid_grant", exc.message, status), exc.retry_after)
    except OAuthError as exc:
        await session.commit()  # keep a revoked token family, a burnt code
        return _oauth_error(exc)
    return JSONResponse(out.model_dump(exclude_none=True), headers=_NO_STORE)


@router.post(
    "/revoke",
    response_model=RevokeOut,
    summary="撤销刷新令牌（RFC 7009）",
    status_code=200,
    responses={401: {"description": "RFC 6749 错误：error, error_description"}},
)
async def revoke(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()],
    token_type_hint: FormStr = None,
    client_id: FormStr = None,
    client_secret: FormStr = None,
) -> Any:
    try:
        cid, secret = _client_credentials(request, client_id, client_secret)
        _refuse_internal_from_outside(request, cid)
        client = await authenticate_client(session, cid, secret)
    except OAuthError as exc:
        return _oauth_error(exc)
    await tokens.revoke(session, client, token, client_ip(request))
    return JSONResponse({}, headers=_NO_STORE)


@router.get(
    "/userinfo",
    response_model=UserInfoOut,
    response_model_exclude_none=True,
    summary="当前用户信息（OIDC UserInfo）",
    responses=problem_responses(Unauthorized),
)
async def userinfo(principal: PrincipalDep, session: SessionDep) -> UserInfoOut:
    if principal.kind != "user":
        return UserInfoOut(sub=principal.sub, kind="client", client_id=principal.client_id)
    user = await session.get(User, int(principal.sub)) if principal.sub.isdigit() else None
    if user is None or user.status != "active":
        raise Unauthorized("账户不存在或已停用")
    return UserInfoOut.model_validate(await tokens.user_profile(session, user))


@router.post(
    "/register",
    response_model=UserOut,
    status_code=201,
    summary="公众注册账号",
    responses=problem_responses(ValidationFailed, Conflict),
)
async def register(data: RegisterIn, request: Request, session: SessionDep, rt: RuntimeDep) -> UserOut:
    user = await accounts.create_user(
        session,
        rt,
        UserIn(
            username=data.username, display_name=data.display_name, password=data.password, kind="citizen"
        ),
        Actor(data.username, client_ip(request)),
    )
    return await accounts.user_out(session, user)
