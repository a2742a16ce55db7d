"""The operator dashboard's pages: thin routes over service.dashboard, rendered by dashboard.render.

Who is looking comes from the dashboard's own session cookie (set by the OIDC callback) or,
for tooling, a bearer token; the same access rules as the JSON API decide what they see. A
site the viewer may not see answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.kernel import clock
from services.kernel.auth import Principal
from services.kernel.deps import CtxDep, SessionDep, bearer_token
from services.kernel.errors import JiyueError, NotFound, Unauthorized
from services.oversight import flows
from services.oversight.dashboard import render
from services.oversight.schemas import AnnualReportOut
from services.oversight.service import dashboard, report_view
from services.oversight.service.access import dashboard_sites
from services.oversight.service.report_render import to_xlsx
from services.oversight.service.signin import (
    DASHBOARD_PATH,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    DashboardSignIn,
)
from services.oversight.settings import OversightSettings
from services.oversight.state import OversightState

router = APIRouter(prefix="/dashboard", tags=["oversight dashboard"])

_HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
PAGE: dict[int | str, dict[str, Any]] = {
    200: {"description": "页面", **_HTML},
    303: {"description": "未登录：转到统一身份认证登录"},
    403: {"description": "无权访问运维监控（页面）", **_HTML},
    404: {"description": "站点不存在或无权查看（页面）", **_HTML},
}
REDIRECT: dict[int | str, dict[str, Any]] = {
    303: {"description": "转到下一步（登录页、回调后的页面）"},
    401: {"description": "登录请求无效或已过期（页面）", **_HTML},
}


def _signin(request: Request) -> DashboardSignIn:
    state: DashboardSignIn | None = getattr(request.app.state, "dashboard_signin", None)
    if state is None:
        settings = request.app.state.ctx.settings
        assert isinstance(settings, OversightSettings)
        state = DashboardSignIn(settings)
        request.app.state.dashboard_signin = state
    return state


SignInDep = Annotated[DashboardSignIn, Depends(_signin)]


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def _context(
    request: Request, signin: DashboardSignIn, viewer: Principal | None, **extra: Any
) -> dict[str, Any]:
    cookie = request.cookies.get(SESSION_COOKIE)
    return {
        "base": DASHBOARD_PATH,
        "viewer": (viewer.name or viewer.sub) if viewer else None,
        "csrf": signin.csrf_token(cookie) if cookie and viewer else None,
        "report_year": clock.today().year - 1,
        **extra,
    }


async def _viewer(request: Request, ctx: CtxDep, signin: DashboardSignIn) -> Principal | None:
    token = bearer_token(request) or signin.session_token(request.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    try:
        return await ctx.verifier.verify(token)
    except Unauthorized:
        return None  # lapsed or revoked: sign in again (identity's SSO makes it a redirect)


# A page (template and its context), or a finished answer (a download)
PageBuilder = Callable[[frozenset[str] | None], Awaitable[tuple[str, dict[str, Any]] | Response]]


async def _serve(request: Request, ctx: CtxDep, signin: DashboardSignIn, build: PageBuilder) -> Response:
    viewer = await _viewer(request, ctx, signin)
    if viewer is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return _redirect(f"{DASHBOARD_PATH}/signin?{urlencode({'next': target})}")
    try:
        built = await build(dashboard_sites(viewer))
    except JiyueError as exc:
        title = {403: "无权访问", 404: "页面不存在"}.get(exc.status, "暂时无法显示")
        context = _context(request, signin, viewer, title=title, detail=exc.detail, nav="")
        return render.page("refused.html", exc.status, **context)
    if isinstance(built, Response):
        return built
    template, extra = built
    return render.page(template, **_context(request, signin, viewer, **extra))


@router.get("", response_class=HTMLResponse, summary="运维监控：各站点检查结果", responses=PAGE)
async def sites_page(request: Request, ctx: CtxDep, session: SessionDep, signin: SignInDep) -> Response:
    async def build(visible: frozenset[str] | None) -> tuple[str, dict[str, Any]]:
        rows = await dashboard.sites_overview(session, visible)
        return "sites.html", {"title": "站点检查", "sites": rows, "nav": "sites"}

    return await _serve(request, ctx, signin, build)


@router.get("/warnings", response_class=HTMLResponse, summary="运维监控：未解决的预警", responses=PAGE)
async def warnings_page(request: Request, ctx: CtxDep, session: SessionDep, signin: SignInDep) -> Response:
    async def build(visible: frozenset[str] | None) -> tuple[str, dict[str, Any]]:
        alerts = await dashboard.open_warnings(session, visible)
        return "warnings.html", {"title": "预警", "alerts": alerts, "nav": "warnings"}

    return await _serve(request, ctx, signin, build)


@router.get(
    "/sites/{code}", response_class=HTMLResponse, summary="运维监控：站点检查评分与证据", responses=PAGE
)
async def scorecard_page(
    code: str, request: Request, ctx: CtxDep, session: SessionDep, signin: SignInDep
) -> Response:
    async def build(visible: frozenset[str] | None) -> tuple[str, dict[str, Any]]:
        card = await dashboard.scorecard_page(session, code, visible)
        return "scorecard.html", {"title": f"{card.name} 检查评分", "card": card, "nav": "site"}

    return await _serve(request, ctx, signin, build)


@router.get(
    "/sites/{code}/statistics", response_class=HTMLResponse, summary="运维监控：站点访问统计", responses=PAGE
)
async def statistics_page(
    code: str,
    request: Request,
    ctx: CtxDep,
    session: SessionDep,
    signin: SignInDep,
    days: Annotated[int, Query(ge=7, le=92, description="最近多少天")] = 30,
) -> Response:
    async def build(visible: frozenset[str] | None) -> tuple[str, dict[str, Any]]:
        stats = await dashboard.statistics_page(session, ctx.directory.client("search"), code, visible, days)
        return "statistics.html", {"title": f"{stats.name} 访问统计", "stats": stats, "nav": "site"}

    return await _serve(request, ctx, signin, build)


YearPath = Annotated[int, Path(ge=2000, le=2100, description="报表年度")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _report(ctx: CtxDep, code: str, year: int, visible: frozenset[str] | None) -> AnnualReportOut:
    if visible is not None and code not in visible:
        raise NotFound(f"站点 {code} 不存在")
    return await flows.report_of(ctx.db, ctx.state_of(OversightState), code, year)


@router.get(
    "/sites/{code}/annual-reports/{year}",
    response_class=HTMLResponse,
    summary="运维监控：站点年度工作报表",
    responses=PAGE,
)
async def report_page(
    code: str, year: YearPath, request: Request, ctx: CtxDep, signin: SignInDep
) -> Response:
    async def build(visible: frozenset[str] | None) -> tuple[str, dict[str, Any]]:
        report = report_view.report_page(await _report(ctx, code, year, visible))
        return "report.html", {
            "title": f"{report.name} {year} 年度工作报表",
            "report": report,
            "nav": "site",
        }

    return await _serve(request, ctx, signin, build)


@router.get(
    "/sites/{code}/annual-reports/{year}/xlsx",
    response_class=Response,
    summary="运维监控：下载年度工作报表（Excel）",
    responses={
        **PAGE,
        200: {
            "description": "报表工作簿",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def report_xlsx(
    code: str, year: YearPath, request: Request, ctx: CtxDep, signin: SignInDep
) -> Response:
    async def build(visible: frozenset[str] | None) -> Response:
        workbook = to_xlsx(await _report(ctx, code, year, visible))
        disposition = f'attachment; filename="annual-report-{code}-{year}.xlsx"'
        return Response(workbook, media_type=XLSX, headers={"Content-Disposition": disposition})

    return await _serve(request, ctx, signin, build)


@router.get(
    "/sites/{code}/annual-reports/{year}/json",
    response_model=AnnualReportOut,
    summary="运维监控：下载年度工作报表（JSON）",
    responses={303: PAGE[303], 403: PAGE[403], 404: PAGE[404]},
)
async def report_json(
    code: str, year: YearPath, request: Request, ctx: CtxDep, signin: SignInDep
) -> Response:
    async def build(visible: frozenset[str] | None) -> Response:
        report = await _report(ctx, code, year, visible)
        disposition = f'attachment; filename="annual-report-{code}-{year}.json"'
        return Response(
            report.model_dump_json(),
            media_type="application/json",
            headers={"Content-Disposition": disposition},
        )

    return await _serve(request, ctx, signin, build)


# -- signing in and out ---------------------------------------------------------------------


@router.get(
    "/assets/dashboard.css",
    summary="运维监控样式表",
    response_class=Response,
    responses={200: {"description": "样式表", "content": {"text/css": {"schema": {"type": "string"}}}}},
)
async def stylesheet() -> Response:
    return render.stylesheet()


@router.get(
    "/signin", response_class=RedirectResponse, summary="运维监控：转到统一身份认证登录", responses=REDIRECT
)
async def signin_start(
    signin: SignInDep, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    location, cookie = signin.start(next)
    response = _redirect(location)
    response.set_cookie(
        LOGIN_COOKIE,
        cookie,
        max_age=600,
        path=DASHBOARD_PATH,
        httponly=True,
        samesite="lax",
        secure=signin.secure,
    )
    return response


@router.get(
    "/callback",
    response_class=RedirectResponse,
    summary="运维监控：登录回调（授权码 + PKCE）",
    responses=REDIRECT,
)
async def signin_callback(
    request: Request,
    ctx: CtxDep,
    signin: SignInDep,
    code: Annotated[str | None, Query(max_length=512)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    try:
        if error or not code:
            raise Unauthorized("统一身份认证未完成登录，请重新登录")
        login = signin.login_state(request.cookies.get(LOGIN_COOKIE), state)
        grant = await signin.redeem(ctx.directory.raw("identity"), code, login)
        await ctx.verifier.verify(grant.access_token)
    except JiyueError as exc:
        context = _context(request, signin, None, title="登录未完成", detail=exc.detail, nav="")
        return render.page("refused.html", exc.status, **context)
    response = _redirect(login.next)
    response.delete_cookie(
        LOGIN_COOKIE, path=DASHBOARD_PATH, httponly=True, samesite="lax", secure=signin.secure
    )
    response.set_cookie(
        SESSION_COOKIE,
        signin.session_cookie(grant),
        max_age=SESSION_SECONDS,
        path=DASHBOARD_PATH,
        httponly=True,
        samesite="lax",
        secure=signin.secure,
    )
    return response


@router.post(
    "/signout",
    response_class=RedirectResponse,
    summary="运维监控：退出登录（同时结束统一登录会话）",
    responses={
        303: {"description": "已退出，转到首页"},
        403: {"description": "CSRF 校验失败（页面）", **_HTML},
    },
)
async def signout(
    request: Request,
    ctx: CtxDep,
    signin: SignInDep,
    csrf_token: Annotated[str | None, Form(max_length=128)] = None,
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not signin.csrf_matches(cookie, csrf_token):
        context = _context(request, signin, None, title="无法退出", nav="",
                           detail="页面已过期或请求来源不可信（CSRF 校验失败），请返回后重试。")  # fmt: skip
        return render.page("refused.html", 403, **context)
    sso = request.cookies.get("jiyue_sso")
    if sso:  # identity's cookie is sent here too (same host, path /): end the single sign-on with it
        await ctx.directory.raw("identity").post(
            "/api/identity/v1/logout", headers={"Cookie": f"jiyue_sso={sso}"}
        )
    response = _redirect(f"{DASHBOARD_PATH}/signed-out")
    response.delete_cookie(
        SESSION_COOKIE, path=DASHBOARD_PATH, httponly=True, samesite="lax", secure=signin.secure
    )
    response.delete_cookie("jiyue_sso", path="/", httponly=True, samesite="lax", secure=signin.secure)
    return response


@router.get(
    "/signed-out", response_class=HTMLResponse, summary="运维监控：已退出", responses={200: PAGE[200]}
)
async def signed_out(request: Request, signin: SignInDep) -> Response:
    context = _context(request, signin, None, title="已退出登录", nav="",
                       detail="您已退出运维监控与统一身份认证。")  # fmt: skip
    return render.page("refused.html", 200, **context)
