"""Typed errors rendered as RFC 9457 problem+json.

Domain code raises these (they carry no FastAPI import); the app factory turns them into
responses. `type` is a stable URI slug clients can switch on; `title` and `detail` are Chinese.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://jiyue.gov.cn/problems/"


class Problem(BaseModel):
    """The body of every error response."""

    type: str = Field(examples=[PROBLEM_BASE + "not-found"])
    title: str = Field(examples=["资源不存在"])
    status: int = Field(examples=[404])
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Field-level problems: `field` (dotted path) and `message`."
    )
    extra: dict[str, Any] | None = Field(default=None, description="Problem-specific data.")


class JiyueError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "服务器内部错误"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.extra = extra
        self.headers = headers or {}

    @classmethod
    def type_uri(cls) -> str:
        return PROBLEM_BASE + cls.slug

    def to_problem(self, instance: str | None = None, request_id: str | None = None) -> Problem:
        return Problem(
            type=PROBLEM_BASE + self.slug,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            request_id=request_id,
            errors=self.errors,
            extra=self.extra,
        )


class BadRequest(JiyueError):
    status = 400
    slug = "bad-request"
    title = "请求有误"


class Unauthorized(JiyueError):
    status = 401
    slug = "unauthorized"
    title = "未认证或令牌无效"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="jiyue"'})
        super().__init__(detail, **kw)


class Forbidden(JiyueError):
    status = 403
    slug = "forbidden"
    title = "无权执行此操作"


class NotFound(JiyueError):
    status = 404
    slug = "not-found"
    title = "资源不存在"


class CorsRefused(Forbidden):
    slug = "cors-refused"
    title = "跨域请求被拒绝"


class UnknownSite(NotFound):
    """The gateway knows no site by that code or domain."""

    slug = "unknown-site"
    title = "站点不存在"


class MethodNotAllowed(JiyueError):
    status = 405
    slug = "method-not-allowed"
    title = "不支持的请求方法"


class Conflict(JiyueError):
    status = 409
    slug = "conflict"
    title = "状态冲突"


class FeedCursorExpired(JiyueError):
    """A change-feed consumer asked from a cursor whose successors were pruned.

    `extra` carries `oldest_cursor` (read on from there after rebuilding) and `head`."""

    status = 410
    slug = "feed-cursor-expired"
    title = "变更游标已过期"


class PayloadTooLarge(JiyueError):
    status = 413
    slug = "payload-too-large"
    title = "上传内容过大"


class UnsupportedMediaType(JiyueError):
    status = 415
    slug = "unsupported-media-type"
    title = "不支持的文件类型"


class RangeNotSatisfiable(JiyueError):
    status = 416
    slug = "range-not-satisfiable"
    title = "请求的字节范围无效"


class ValidationFailed(JiyueError):
    status = 422
    slug = "validation"
    title = "输入校验未通过"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message}])


class ReviewBlocked(ValidationFailed):
    """The resource library's machine review refused a version (先审后入库)."""

    slug = "review-blocked"
    title = "机器审查未通过，不能入库"


class TooManyRequests(JiyueError):
    status = 429
    slug = "rate-limited"
    title = "请求过于频繁，请稍后再试"


class ServiceUnavailable(JiyueError):
    status = 503
    slug = "unavailable"
    title = "服务暂不可用"


class UpstreamUnavailable(ServiceUnavailable):
    """The gateway could not reach the service behind a path."""

    slug = "upstream-unavailable"


class PeerUnavailable(ServiceUnavailable):
    """A peer platform (the province, a city) did not answer or refused our credentials."""

    slug = "peer-unavailable"
    title = "互联平台暂不可达"


class SiteSuspended(ServiceUnavailable):
    slug = "site-suspended"
    title = "网站暂停访问"


class SiteMoved(JiyueError):
    """An offline site whose content moved: answered with a redirect (Location)."""

    status = 308
    slug = "site-moved"
    title = "网站已下线，内容已迁移"


class SiteOffline(JiyueError):
    status = 410
    slug = "site-offline"
    title = "网站已下线"


class HttpError(JiyueError):
    """Any other HTTP error status the framework raises (the status is the framework's)."""

    status = 400
    slug = "http-error"
    title = "请求失败"


def problem_responses(*errors: type[JiyueError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entry documenting which problems a route may answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        out[err.status] = {
            "model": Problem,
            "description": err.title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out
