"""Request and response models of the oversight service."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.kernel.clock import WireDateTime
from services.oversight.vocab import IncidentKind, IncidentSource, Indicator, Level


class AccessEventIn(BaseModel):
    """One request the gateway answered, as its access log records it."""

    ts: WireDateTime
    client: str = Field(max_length=64)
    method: str = Field(max_length=8)
    path: str = Field(max_length=2000)
    status: int = Field(ge=100, le=599)
    site: str | None = Field(default=None, max_length=64)


class AccessBatchIn(BaseModel):
    events: list[AccessEventIn]


class IngestOut(BaseModel):
    accepted: int
    page_views: int


class EvidenceOut(BaseModel):
    column_id: int | None
    name: str
    last_update: WireDateTime | None = Field(description="最近一次更新；null 表示从未更新")
    idle_days: int | None
    responsible_editor: str | None = None
    url: str | None = Field(default=None, description="出错的地址（链接、附件、探测）")
    since: WireDateTime | None = Field(default=None, description="问题首次发现时间")
    detail: str | None = None


class IndicatorOut(BaseModel):
    indicator: Indicator
    level: Level
    value: int
    warn_at: int
    veto_at: int
    evidence: list[EvidenceOut]


class ScorecardOut(BaseModel):
    site: str
    name: str
    profile: str
    evaluated_at: WireDateTime
    passed: bool = Field(description="没有单项否决项")
    indicators: list[IndicatorOut]


class ScorecardList(BaseModel):
    total: int
    items: list[ScorecardOut]


class AlertOut(BaseModel):
    id: int
    site: str
    indicator: Indicator
    level: Level
    value: int
    evidence: str
    raised_at: WireDateTime
    resolved_at: WireDateTime | None


class AlertList(BaseModel):
    total: int
    items: list[AlertOut]


class FreshnessRuleIn(BaseModel):
    subject: str = Field(pattern=r"^(homepage|dynamic|notice|long_stale|unanswered)$")
    warn_days: int = Field(ge=1, le=3650)
    veto_days: int = Field(ge=1, le=3650)


class CountRuleIn(BaseModel):
    indicator: Indicator
    warn_at: int = Field(ge=1, le=1000)
    veto_at: int = Field(ge=1, le=1000)


class RulesIn(BaseModel):
    freshness: list[FreshnessRuleIn] = Field(default_factory=list, max_length=10)
    counts: list[CountRuleIn] = Field(default_factory=list, max_length=10)


class RulesOut(BaseModel):
    profile: str
    freshness: list[FreshnessRuleIn]
    counts: list[CountRuleIn]


class PageViewsOut(BaseModel):
    kind: str
    ref: str
    views: int


class MonthOut(BaseModel):
    month: str
    page_views: int


class StatisticsOut(BaseModel):
    site: str = Field(description="站点代码；空字符串为全平台")
    year: int
    first_day: date
    last_day: date
    page_views: int
    unique_visitors: int = Field(description="独立用户访问总量（HyperLogLog 估计，误差约 ±1%）")
    by_month: list[MonthOut]
    top_pages: list[PageViewsOut]


# ---- 年度工作报表 (article 39) -------------------------------------------------------------
# GET /api/oversight/v1/sites/{code}/annual-reports/{year} answers AnnualReportOut; the dashboard
# renders it. Rows keep the national table's order; `source` says where each figure came from.

ReportValue = bool | int | float | str | None
RowSource = Literal["computed", "entered", "missing"]


class ReportRowOut(BaseModel):
    key: str = Field(description="稳定的行代码，如 visits.unique_visitors")
    label: str
    value: ReportValue
    unit: str | None = None
    source: RowSource = Field(description="computed：平台数据计算；entered：站点填报；missing：尚未填报")
    entered_by: str | None = None
    entered_at: WireDateTime | None = None


class ReportSectionOut(BaseModel):
    key: str
    title: str
    rows: list[ReportRowOut]


class ReportMonthOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    page_views: int
    published: int


class AnnualReportOut(BaseModel):
    site: str
    name: str
    year: int
    generated_at: WireDateTime
    sections: list[ReportSectionOut]
    by_month: list[ReportMonthOut]
    draft_publication_id: int | None = Field(default=None, description="报表在内容服务中的发布稿件")


class ReportEntryIn(BaseModel):
    key: str = Field(max_length=64)
    value: ReportValue = Field(description="数字、是/否或文字（≤500字）")


class ReportEntriesIn(BaseModel):
    entries: list[ReportEntryIn] = Field(min_length=1, max_length=100)


class ReportDraftOut(BaseModel):
    site: str
    year: int
    publication_id: int = Field(description="内容服务中的报表稿件（已提交审核）")


class IncidentIn(BaseModel):
    """A security incident an operator or the site's administrator records."""

    kind: IncidentKind
    url: str = Field(min_length=1, max_length=1000, pattern=r"^(https?://|/)\S+$", description="受影响的地址")
    description: str = Field(min_length=1, max_length=2000)
    opened_at: WireDateTime | None = Field(default=None, description="发现时间；缺省为现在")


class IncidentHandleIn(BaseModel):
    handling: str = Field(min_length=1, max_length=2000, description="采取的处置措施")
    handled_at: WireDateTime | None = Field(default=None, description="处置完成时间；缺省为现在")


class IncidentOut(BaseModel):
    id: int
    site: str
    kind: IncidentKind
    source: IncidentSource
    url: str
    description: str
    recorded_by: str
    opened_at: WireDateTime
    handled_at: WireDateTime | None
    handled_by: str | None
    handling: str


class IncidentList(BaseModel):
    total: int
    items: list[IncidentOut]
