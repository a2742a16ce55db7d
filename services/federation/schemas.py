"""Requests and answers of the federation API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from services.federation.vocab import FollowKind, PeerScope, PeerStatus, ReportState
from services.kernel.clock import WireDateTime

CODE = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def _base_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not (value.startswith("https://") or value.startswith("http://")) or "#" in value or "?" in value:
        raise ValueError("须为 http(s):// 开头、不含查询与片段的地址")
    return value


class PeerCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=CODE, description="互联平台代码，如 province")
    name: str = Field(min_length=1, max_length=200)
    base_url: str = Field(min_length=8, max_length=500, description="对方平台的公开地址（网关）")
    issuer: str = Field(min_length=8, max_length=500, description="对方平台的 OIDC 签发者")
    # Known once the peer has registered us in turn (set them then with PATCH); until both are
    # given nothing of the peer is followed.
    remote_client_id: str | None = Field(None, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    remote_client_secret: str | None = Field(
        None, min_length=16, max_length=500, description="对方为本平台签发的客户端密钥"
    )
    scopes: list[PeerScope] = Field(
        default_factory=list, max_length=8, description="对方可在本平台读取的范围"
    )
    follow: list[FollowKind] = Field(
        default_factory=list, max_length=8, description="本平台订阅对方的哪些变更"
    )

    _check_url = field_validator("base_url", "issuer")(_base_url)


class PeerPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    status: PeerStatus | None = None
    remote_client_id: str | None = Field(None, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    remote_client_secret: str | None = Field(None, min_length=16, max_length=500)
    follow: list[FollowKind] | None = Field(None, max_length=8)


class FeedLinkOut(BaseModel):
    """How far we are behind the peer's feed."""

    running: bool
    position: int
    head: int
    lag_events: int
    lag_seconds: float = Field(description="自上次读到对方最新变更以来的秒数")
    late: bool = Field(description="超过告警阈值：对方不可达或处理积压")
    failures: int
    last_error: str | None


class PeerOut(BaseModel):
    code: str
    name: str
    base_url: str
    issuer: str
    remote_client_id: str | None
    remote_secret_set: bool = Field(description="是否已保存本平台在对方的客户端密钥（密钥本身从不返回）")
    local_client_id: str = Field(description="本平台为对方签发的机器客户端")
    scopes: list[PeerScope]
    follow: list[FollowKind]
    status: PeerStatus
    created_at: WireDateTime | None
    updated_at: WireDateTime | None
    link: FeedLinkOut | None = None


class PeerCreatedOut(PeerOut):
    local_client_secret: str = Field(description="对方访问本平台的客户端密钥，仅此一次返回")


class PeersOut(BaseModel):
    items: list[PeerOut]
    total: int


class PeerSiteOut(BaseModel):
    peer: str
    code: str
    name: str
    kind: str
    status: str
    domains: list[str]
    id_code: str
    icp_no: str
    psb_no: str
    notice: str | None
    moved_to: str | None
    updated_at: WireDateTime | None


class PeerSitesOut(BaseModel):
    items: list[PeerSiteOut]
    total: int


class PeerSiteChangeOut(BaseModel):
    peer: str
    event_id: int
    site_code: str
    action: str
    status: str
    detail: dict[str, Any]
    occurred_at: WireDateTime | None
    recorded_at: WireDateTime | None


class PeerSiteChangesOut(BaseModel):
    items: list[PeerSiteChangeOut]
    total: int


class ReportSubmit(BaseModel):
    peer: str = Field(min_length=1, max_length=64, pattern=CODE, description="报送对象：互联平台代码")
    site: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="本平台站点代码")
    year: int = Field(ge=2000, le=2100)


class ReportReview(BaseModel):
    decision: Literal["accepted", "returned"]
    opinion: str = Field("", max_length=2000)


class ReportOut(BaseModel):
    """An annual report sent up (ours) or received (a peer's), with its review state."""

    id: int
    peer: str
    site: str
    year: int
    state: ReportState
    opinion: str
    at: WireDateTime | None = Field(description="报送或收到的时间")
    reviewed_at: WireDateTime | None


class ReportsOut(BaseModel):
    items: list[ReportOut]
    total: int


class PeerReportDocOut(ReportOut):
    report: dict[str, Any] = Field(description="报送时的年度工作报表（与 oversight 的报表同形）")
