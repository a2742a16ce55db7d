"""The annual report (年度工作报表): each row computed from the platform's data or entered by the site.

Computed rows and where they come from: the site's identity and filings from content's site
record (asked over its API when the report is built); visits from the daily counters and the
yearly HyperLogLog sketch; publications by kind from the items oversight follows (live or
archived at the time, by the instant they went live in the Shanghai year; a withdrawn item no
longer counts); special columns and interpretations from column names (专题/专栏, 解读);
messages from interaction's feed; consultations, surveys and interviews from interaction's own
count (`GET /participation/{site}`, asked when the report is built). The rest is entered by the
site, each change audited.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.errors import NotFound, ValidationFailed
from services.oversight.models import (
    LiveItem,
    ReportDraft,
    ReportEntry,
    ReportEntryChange,
    WatchedColumn,
    WatchedSite,
)
from services.oversight.schemas import (
    AnnualReportOut,
    ReportEntriesIn,
    ReportMonthOut,
    ReportRowOut,
    ReportSectionOut,
    ReportValue,
)
from services.oversight.service import messages
from services.oversight.service.report_rows import ENTERED, ROWS, SECTIONS
from services.oversight.service.visits import unique_visitors, views_between
from services.oversight.vocab import ColumnCategory

SPECIAL_WORDS = ("专题", "专栏")
INTERPRETATION_WORDS = ("解读",)
_KINDS = {"portal": "门户网站", "department": "部门网站"}
# 信息公开目录: the columns the rules call 通知公告/政策文件; 概况类: everything else a site keeps.
_PUBLISHED_KEY = {
    ColumnCategory.DYNAMIC.value: "published.dynamic",
    ColumnCategory.NOTICE.value: "published.disclosure",
    ColumnCategory.OTHER.value: "published.overview",
}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The Shanghai calendar year as UTC instants [first, last)."""
    first = datetime(year, 1, 1, tzinfo=clock.SHANGHAI)
    last = datetime(year + 1, 1, 1, tzinfo=clock.SHANGHAI)
    return first, last


@dataclass
class Computed:
    values: dict[str, ReportValue]
    published_by_month: Counter[str]


# The report's keys for interaction's participation figures (service/participation.py there).
_PARTICIPATION = {
    "consultations.rounds": "periods",
    "consultations.opinions": "opinions",
    "consultations.results": "results_published",
    "interviews.rounds": "interviews",
    "interviews.questions": "questions",
    "interviews.answers": "answered_questions",
}


async def compute(
    session: AsyncSession,
    code: str,
    year: int,
    site_record: dict[str, object],
    participation: dict[str, object],
) -> Computed:
    first, last = year_bounds(year)
    values: dict[str, ReportValue] = {}
    domains = site_record.get("domains") or []
    values["identity.name"] = str(site_record.get("name") or "")
    values["identity.url"] = f"https://{domains[0]}/" if isinstance(domains, list) and domains else ""
    values["identity.host_org"] = str(site_record.get("host_org") or "")
    values["identity.kind"] = _KINDS.get(str(site_record.get("kind")), str(site_record.get("kind") or ""))
    for key in ("id_code", "icp_no", "psb_no"):
        values[f"identity.{key}"] = str(site_record.get(key) or "")

    views = await views_between(session, code, date(year, 1, 1), date(year, 12, 31))
    values["visits.page_views"] = sum(v.views for v in views)
    values["visits.unique_visitors"] = await unique_visitors(session, code, str(year))

    columns = {
        c.column_id: c
        for c in (
            await session.execute(select(WatchedColumn).where(col(WatchedColumn.site) == code))
        ).scalars()
    }
    items = (await session.execute(select(LiveItem).where(col(LiveItem.site) == code))).scalars().all()
    in_year = [i for i in items if first <= clock.aware(i.published_at) < last]
    values["published.total"] = len(in_year)
    by_kind: Counter[str] = Counter()
    months: Counter[str] = Counter()
    interpretations = 0
    for item in in_year:
        column = columns.get(item.column_id)
        by_kind[_PUBLISHED_KEY[column.category if column else ColumnCategory.OTHER.value]] += 1
        months[clock.aware(item.published_at).astimezone(clock.SHANGHAI).strftime("%Y-%m")] += 1
        if column and any(w in column.name for w in INTERPRETATION_WORDS):
            interpretations += 1
    for key in _PUBLISHED_KEY.values():
        values[key] = by_kind[key]
    special = [
        c
        for c in columns.values()
        if any(w in c.name for w in SPECIAL_WORDS) and clock.aware(c.created_at) < last
    ]
    values["special.maintained"] = sum(1 for c in special if not c.deleted)
    values["special.opened"] = sum(1 for c in special if clock.aware(c.created_at) >= first)
    values["interpretation.total"] = interpretations

    figures = await messages.figures(session, code, first, last)
    values["messages.received"] = figures.received
    values["messages.closed"] = figures.closed
    values["messages.average_days"] = figures.average_days
    values["messages.published"] = figures.published
    for key, field in _PARTICIPATION.items():
        value = participation.get(field)
        values[key] = int(value) if isinstance(value, int) else None
    return Computed(values, months)


async def build(
    session: AsyncSession,
    code: str,
    year: int,
    site_record: dict[str, object],
    participation: dict[str, object],
) -> AnnualReportOut:
    site = await session.get(WatchedSite, code)
    if site is None:
        raise NotFound(f"站点 {code} 不存在")
    computed = await compute(session, code, year, site_record, participation)
    entries = {
        e.key: e
        for e in (
            await session.execute(
                select(ReportEntry).where(col(ReportEntry.site) == code, col(ReportEntry.year) == year)
            )
        ).scalars()
    }
    sections = []
    for key, title, rows in SECTIONS:
        out = []
        for row in rows:
            if row.computed:
                out.append(
                    ReportRowOut(
                        key=row.key,
                        label=row.label,
                        value=computed.values[row.key],
                        unit=row.unit,
                        source="computed",
                    )
                )
                continue
            entry = entries.get(row.key)
            out.append(
                ReportRowOut(
                    key=row.key,
                    label=row.label,
                    value=json.loads(entry.value) if entry else None,
                    unit=row.unit,
                    source="entered" if entry else "missing",
                    entered_by=entry.entered_by if entry else None,
                    entered_at=entry.entered_at if entry else None,
                )
            )
        sections.append(ReportSectionOut(key=key, title=title, rows=out))
    views = await views_between(session, code, date(year, 1, 1), date(year, 12, 31))
    view_months: Counter[str] = Counter()
    for v in views:
        view_months[v.day.strftime("%Y-%m")] += v.views
    by_month = [
        ReportMonthOut(month=m, page_views=view_months[m], published=computed.published_by_month[m])
        for m in (f"{year}-{n:02d}" for n in range(1, 13))
    ]
    draft = await session.get(ReportDraft, (code, year))
    return AnnualReportOut(
        site=code,
        name=site.name,
        year=year,
        generated_at=clock.now(),
        sections=sections,
        by_month=by_month,
        draft_publication_id=draft.publication_id if draft else None,
    )


def _checked(index: int, key: str, value: ReportValue) -> str:
    field = f"entries.{index}.value"
    if key not in ENTERED:
        raise ValidationFailed.field(f"entries.{index}.key", "该行由平台数据计算，或不是报表中的行")
    kind = ROWS[key].kind
    if value is None:
        raise ValidationFailed.field(field, "请填写数值")
    if kind == "count" and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12
    ):
        raise ValidationFailed.field(field, "应为不小于 0 的整数")
    if kind == "yes" and not isinstance(value, bool):
        raise ValidationFailed.field(field, "应为 true（是）或 false（否）")
    if kind == "text" and (not isinstance(value, str) or len(value) > 500):
        raise ValidationFailed.field(field, "应为不超过 500 字的文字")
    return json.dumps(value, ensure_ascii=False)


async def enter(session: AsyncSession, code: str, year: int, body: ReportEntriesIn, actor: str) -> None:
    """Store the site's own figures; every change is kept with who, when, from and to."""
    if await session.get(WatchedSite, code) is None:
        raise NotFound(f"站点 {code} 不存在")
    checked = [(e.key, _checked(i, e.key, e.value)) for i, e in enumerate(body.entries)]
    now = clock.now()
    for key, text in checked:
        entry = await session.get(ReportEntry, (code, year, key))
        old = entry.value if entry else None
        if old == text:
            continue
        entry = entry or ReportEntry(
            site=code, year=year, key=key, value=text, entered_by=actor, entered_at=now
        )
        entry.value, entry.entered_by, entry.entered_at = text, actor, now
        session.add(entry)
        session.add(
            ReportEntryChange(
                site=code, year=year, key=key, old_value=old, new_value=text, actor=actor, at=now
            )
        )
    await session.flush()
