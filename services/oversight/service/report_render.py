"""The annual report as a workbook (openpyxl) and as a printable page with server-side SVG charts."""

from __future__ import annotations

import io
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from services.kernel import clock
from services.oversight.schemas import AnnualReportOut, ReportValue

_SOURCE = {"computed": "平台数据", "entered": "站点填报", "missing": "未填报"}


def shown(value: ReportValue) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def to_xlsx(report: AnnualReportOut) -> bytes:
    """One sheet in the national table's order; numbers stay numbers so they can be summed."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{report.year}年度报表"
    sheet.append([f"{report.name}政府网站工作年度报表（{report.year}年度）"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["类别", "指标", "数值", "单位", "来源", "行代码"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for section in report.sections:
        for row in section.rows:
            value = row.value
            cell_value: object = ("是" if value else "否") if isinstance(value, bool) else value
            sheet.append([section.title, row.label, cell_value, row.unit or "", _SOURCE[row.source], row.key])
    sheet.append([])
    sheet.append(["月份", "访问量", "发布信息"])
    for month in report.by_month:
        sheet.append([month.month, month.page_views, month.published])
    for letter, width in zip("ABCDEF", (22, 34, 18, 8, 10, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    for row_cells in sheet.iter_rows(min_row=3):
        row_cells[1].alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bar_chart(title: str, labels: list[str], values: list[int], colour: str) -> str:
    """A labelled bar chart as inline SVG (readable without scripts and in print)."""
    width, height, left, bottom = 640, 220, 48, 30
    top = max(values, default=0) or 1
    step = (width - left - 10) / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (height - bottom - 20) * value / top
        x = left + i * step + step * 0.15
        y = height - bottom - h
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(label)}：{value}</title></rect>"
            f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 14}" font-size="11" text-anchor="middle">'
            f"{escape(label[-2:])}月</text>"
            f'<text x="{x + step * 0.35:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{value}</text>'
        )
    return (
        f'<figure><svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#333"/>'
        + "".join(bars)
        + f"</svg><figcaption>{escape(title)}</figcaption></figure>"
    )


def to_html(report: AnnualReportOut) -> str:
    months = [m.month for m in report.by_month]
    rows = []
    for section in report.sections:
        rows.append(f'<tr><th colspan="4" scope="rowgroup" class="section">{escape(section.title)}</th></tr>')
        for row in section.rows:
            rows.append(
                f'<tr><th scope="row">{escape(row.label)}</th><td class="num">{escape(shown(row.value))}</td>'
                f"<td>{escape(row.unit or '')}</td><td>{_SOURCE[row.source]}</td></tr>"
            )
    title = f"{report.name}政府网站工作年度报表（{report.year}年度）"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#111;margin:2em;max-width:60em}}
table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #555;padding:.3em .5em;text-align:left}}
th.section{{background:#e8eef7}}td.num{{text-align:right}}figure{{margin:1em 0}}
@media print{{body{{margin:0}}figure{{break-inside:avoid}}}}
</style></head><body>
<h1>{escape(title)}</h1>
<p>生成时间：{escape(clock.to_wire(report.generated_at)[:16].replace("T", " "))}</p>
{bar_chart("各月访问量", months, [m.page_views for m in report.by_month], "#1f5fa8")}
{bar_chart("各月发布信息数", months, [m.published for m in report.by_month], "#2e7d32")}
<table><caption>年度报表</caption>
<thead><tr><th scope="col">指标</th><th scope="col">数值</th><th scope="col">单位</th><th scope="col">来源</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</body></html>
"""
