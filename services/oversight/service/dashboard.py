"""What each dashboard page shows, built from oversight's own facts (no HTTP here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.errors import NotFound
from services.oversight.models import Alert, LiveItem, WatchedColumn, WatchedSite
from services.oversight.service.charts import Chart, bar_chart
from services.oversight.service.freshness import Finding
from services.oversight.service.scorecards import evaluate
from services.oversight.service.visits import unique_visitors, views_between
from services.oversight.vocab import Level

INDICATOR_LABELS = {
    "homepage_stale": "首页更新",
    "stale_columns": "栏目更新（动态要闻两周、通知公告政策文件六个月）",
    "long_stale_columns": "长期未更新栏目（一年）",
    "blank_columns": "空白栏目",
    "unavailable": "网站可用性（‰ 探测失败）",
    "broken_links": "错链断链",
    "unanswered_messages": "互动留言未回复",
    "security_incident_unhandled": "安全事件未及时处置（小时）",
}
LEVEL_LABELS = {Level.OK.value: "正常", Level.WARNING.value: "预警", Level.VETO.value: "单项否决"}
KIND_LABELS = {"site": "首页", "column": "栏目", "item": "信息", "search": "站内搜索", "other": "其他"}

# None: every site; otherwise the sites a viewer may see
Visible = Collection[str] | None


def label(indicator: str) -> str:
    return INDICATOR_LABELS.get(indicator, indicator)


def shown(value: datetime | None) -> str:
    """An instant as a reader in the city reads it: Beijing time, to the minute."""
    if value is None:
        return "从未更新"
    return clock.aware(value).astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class SiteRow:
    code: str
    name: str
    passed: bool
    vetoes: int
    warnings: int
    open_alerts: int
    worst: list[str]  # labels of the indicators at veto (or warning) level


@dataclass(frozen=True)
class EvidenceRow:
    name: str
    since: str
    idle_days: str
    url: str
    editor: str


@dataclass(frozen=True)
class IndicatorRow:
    indicator: str
    label: str
    level: str
    level_label: str
    value: int
    warn_at: int
    veto_at: int
    evidence: list[EvidenceRow]


@dataclass(frozen=True)
class AlertRow:
    site: str
    indicator: str
    label: str
    level: str
    level_label: str
    value: int
    evidence: str
    raised: str
    resolved: str


@dataclass(frozen=True)
class ScorecardPage:
    code: str
    name: str
    evaluated: str
    passed: bool
    indicators: list[IndicatorRow]
    history: list[AlertRow]


@dataclass(frozen=True)
class PageRow:
    kind: str
    title: str
    views: int


@dataclass
class StatisticsPage:
    code: str
    name: str
    first: date
    last: date
    days: list[tuple[str, int, int]]  # (day, page views, unique visitors)
    views_chart: Chart
    visitors_chart: Chart
    top_pages: list[PageRow] = field(default_factory=list)
    total_views: int = 0
    searches: SearchTerms | None = None  # None: search's statistics could not be had


@dataclass(frozen=True)
class SearchTerms:
    total: int
    top: list[tuple[str, int]]
    zero_results: list[tuple[str, int]]


async def search_terms(search: httpx.AsyncClient, code: str, first: date, last: date) -> SearchTerms | None:
    """What the site's visitors searched for, from the search service's query log; the page
    still shows everything else when search is unreachable."""
    try:
        resp = await search.get(
            f"/api/search/v1/sites/{code}/query-statistics",
            params={"from": first.isoformat(), "to": last.isoformat(), "limit": 10},
        )
    except httpx.HTTPError:
        return None
    if resp.status_code != 200:
        return None
    body = resp.json()
    return SearchTerms(
        total=int(body["searches"]),
        top=[(t["query"], int(t["count"])) for t in body["top"]],
        zero_results=[(t["query"], int(t["count"])) for t in body["zero_results"]],
    )


def _visible(code: str, visible: Visible) -> None:
    if visible is not None and code not in visible:
        raise NotFound(f"站点 {code} 不存在")  # indistinguishable from a site that does not exist


async def _site(session: AsyncSession, code: str, visible: Visible) -> WatchedSite:
    _visible(code, visible)
    site = await session.get(WatchedSite, code)
    if site is None:
        raise NotFound(f"站点 {code} 不存在")
    return site


def _evidence_url(code: str, column_id: int | None) -> str:
    if column_id is None:
        return f"/sites/{code}/api/content/v1/site"
    return f"/sites/{code}/api/content/v1/columns/{column_id}/items"


def _indicator(code: str, finding: Finding) -> IndicatorRow:
    return IndicatorRow(
        indicator=finding.indicator.value,
        label=label(finding.indicator.value),
        level=finding.level.value,
        level_label=LEVEL_LABELS[finding.level.value],
        value=finding.value,
        warn_at=finding.warn_at,
        veto_at=finding.veto_at,
        evidence=[
            EvidenceRow(
                name=e.name,
                since=shown(e.last_update),
                idle_days="—" if e.idle_days is None else str(e.idle_days),
                url=_evidence_url(code, e.column_id),
                editor=e.responsible_editor or "—",
            )
            for e in finding.evidence
        ],
    )


def _alert(row: Alert) -> AlertRow:
    return AlertRow(
        site=row.site,
        indicator=row.indicator,
        label=label(row.indicator),
        level=row.level,
        level_label=LEVEL_LABELS.get(row.level, row.level),
        value=row.value,
        evidence=row.evidence,
        raised=shown(row.raised_at),
        resolved=shown(row.resolved_at) if row.resolved_at else "未解决",
    )


async def sites_overview(session: AsyncSession, visible: Visible) -> list[SiteRow]:
    stmt = select(WatchedSite).where(col(WatchedSite.status) == "online").order_by(col(WatchedSite.code))
    sites = [s for s in (await session.execute(stmt)).scalars().all() if visible is None or s.code in visible]
    open_counts = Counter(
        a.site
        for a in (await session.execute(select(Alert).where(col(Alert.resolved_at).is_(None)))).scalars()
    )
    rows = []
    for site in sites:
        _, findings = await evaluate(session, site.code)
        vetoes = [f for f in findings if f.level is Level.VETO]
        warnings = [f for f in findings if f.level is Level.WARNING]
        rows.append(
            SiteRow(
                code=site.code,
                name=site.name,
                passed=not vetoes,
                vetoes=len(vetoes),
                warnings=len(warnings),
                open_alerts=open_counts.get(site.code, 0),
                worst=[label(f.indicator.value) for f in (vetoes or warnings)],
            )
        )
    return rows


async def scorecard_page(session: AsyncSession, code: str, visible: Visible) -> ScorecardPage:
    await _site(session, code, visible)
    site, findings = await evaluate(session, code)
    alerts = (
        await session.execute(select(Alert).where(col(Alert.site) == code).order_by(col(Alert.id).desc()))
    ).scalars()
    return ScorecardPage(
        code=site.code,
        name=site.name,
        evaluated=shown(clock.now()),
        passed=all(f.level is not Level.VETO for f in findings),
        indicators=[_indicator(code, f) for f in findings],
        history=[_alert(a) for a in alerts],
    )


async def open_warnings(session: AsyncSession, visible: Visible) -> list[AlertRow]:
    rank = {Level.VETO.value: 0, Level.WARNING.value: 1}
    rows = [
        a
        for a in (await session.execute(select(Alert).where(col(Alert.resolved_at).is_(None)))).scalars()
        if visible is None or a.site in visible
    ]
    rows.sort(key=lambda a: (rank.get(a.level, 2), a.site, -(a.id or 0)))
    return [_alert(a) for a in rows]


async def _titles(
    session: AsyncSession, code: str, pages: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    columns = {int(r) for k, r in pages if k == "column" and r.isdigit()}
    items = {int(r) for k, r in pages if k == "item" and r.isdigit()}
    names: dict[tuple[str, str], str] = {}
    if columns:
        stmt = select(WatchedColumn).where(col(WatchedColumn.column_id).in_(columns))
        for c in (await session.execute(stmt)).scalars():
            names[("column", str(c.column_id))] = c.name
    if items:
        stmt2 = select(LiveItem).where(col(LiveItem.publication_id).in_(items))
        for i in (await session.execute(stmt2)).scalars():
            names[("item", str(i.publication_id))] = i.title or f"信息 {i.publication_id}"
    return names


async def statistics_page(
    session: AsyncSession,
    search: httpx.AsyncClient,
    code: str,
    visible: Visible,
    days: int,
    today: date | None = None,
) -> StatisticsPage:
    site = await _site(session, code, visible)
    last = today or clock.today()
    first = last - timedelta(days=days - 1)
    rows = await views_between(session, code, first, last)
    per_day: Counter[date] = Counter()
    per_page: Counter[tuple[str, str]] = Counter()
    for row in rows:
        per_day[row.day] += row.views
        per_page[(row.kind, row.ref)] += row.views
    series = []
    for n in range(days):
        day = first + timedelta(days=n)
        series.append(
            (day.isoformat(), per_day.get(day, 0), await unique_visitors(session, code, day.isoformat()))
        )
    top = per_page.most_common(10)
    names = await _titles(session, code, [p for p, _ in top])
    short = [(d[5:], v, u) for d, v, u in series]  # MM-DD on the axis
    return StatisticsPage(
        code=site.code,
        name=site.name,
        first=first,
        last=last,
        days=series,
        views_chart=bar_chart(
            "views", f"每日访问量（{first} 至 {last}）", [(d, v) for d, v, _ in short], "次"
        ),
        visitors_chart=bar_chart(
            "visitors", f"每日独立访客（{first} 至 {last}）", [(d, u) for d, _, u in short], "人"
        ),
        top_pages=[
            PageRow(
                kind=KIND_LABELS.get(kind, kind),
                title=names.get((kind, ref), KIND_LABELS.get(kind, kind) + (f" {ref}" if ref else "")),
                views=views,
            )
            for (kind, ref), views in top
        ],
        total_views=sum(per_day.values()),
        searches=await search_terms(search, code, first, last),
    )
