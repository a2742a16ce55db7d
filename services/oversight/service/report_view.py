"""The annual report as the dashboard shows it: the national table's rows and two charts."""

from __future__ import annotations

from dataclasses import dataclass

from services.kernel import clock
from services.oversight.schemas import AnnualReportOut
from services.oversight.service.charts import Chart, bar_chart
from services.oversight.service.report_render import shown

SOURCE_LABELS = {"computed": "平台数据计算", "entered": "站点填报", "missing": "尚未填报"}


@dataclass(frozen=True)
class ReportRow:
    label: str
    value: str
    source: str
    source_label: str


@dataclass(frozen=True)
class ReportSection:
    key: str
    title: str
    rows: list[ReportRow]


@dataclass(frozen=True)
class ReportPage:
    code: str
    name: str
    year: int
    generated: str
    sections: list[ReportSection]
    months: list[tuple[str, int, int]]  # (YYYY-MM, page views, publications)
    views_chart: Chart
    published_chart: Chart
    missing: int


def report_page(report: AnnualReportOut) -> ReportPage:
    sections = [
        ReportSection(
            key=s.key,
            title=s.title,
            rows=[
                ReportRow(
                    label=r.label,
                    value=shown(r.value) + (f" {r.unit}" if r.unit and r.value is not None else ""),
                    source=r.source,
                    source_label=SOURCE_LABELS.get(r.source, r.source),
                )
                for r in s.rows
            ],
        )
        for s in report.sections
    ]
    months = [(m.month, m.page_views, m.published) for m in report.by_month]
    axis = [(m[5:] + "月", v, p) for m, v, p in months]
    return ReportPage(
        code=report.site,
        name=report.name,
        year=report.year,
        generated=clock.aware(report.generated_at).astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        sections=sections,
        months=months,
        views_chart=bar_chart("r-views", f"{report.year} 年每月访问量", [(m, v) for m, v, _ in axis], "次"),
        published_chart=bar_chart(
            "r-pub", f"{report.year} 年每月发布信息数", [(m, p) for m, _, p in axis], "条"
        ),
        missing=sum(1 for s in sections for r in s.rows if r.source == "missing"),
    )
