"""Surveys as their readers see them, and the closed survey's export (CSV, XLSX) and bar chart (SVG).

The export carries answers only: no respondent key, no user, no name, no time of answering;
free text is redacted, and a cell that a spreadsheet would run as a formula is quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from xml.sax.saxutils import escape

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from services.interaction.models import Survey
from services.interaction.schemas.surveys import (
    AnswerValue,
    QuestionKind,
    QuestionOut,
    QuestionResultOut,
    SurveyOut,
    SurveyStaffOut,
    SurveyStatus,
    SurveySummaryOut,
)
from services.interaction.service.surveys import accepting, answers_page, closed

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def survey_out(s: Survey, staff: bool = False) -> SurveyOut:
    assert s.id is not None
    fields = {
        "id": s.id,
        "site": s.site,
        "title": s.title,
        "description": s.description,
        "status": SurveyStatus(s.status),
        "accepting": accepting(s),
        "results_available": closed(s),
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "questions": [QuestionOut(**q) for q in s.questions],
    }
    if not staff:
        return SurveyOut(**fields)
    return SurveyStaffOut(**fields, created_by=s.created_by, withdrawn_reason=s.withdrawn_reason)


def summary_out(s: Survey) -> SurveySummaryOut:
    assert s.id is not None
    return SurveySummaryOut(
        id=s.id,
        title=s.title,
        status=SurveyStatus(s.status),
        accepting=accepting(s),
        results_available=closed(s),
        starts_at=s.starts_at,
        ends_at=s.ends_at,
    )


def _cell(s: Survey, qid: str, value: AnswerValue | None) -> str:
    q = next(q for q in s.questions if q["id"] == qid)
    if value is None:
        return ""
    if q["kind"] in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        picked = value if isinstance(value, list) else [value]
        return "；".join(q["options"][v] for v in picked if isinstance(v, int) and v < len(q["options"]))
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def export_rows(session: AsyncSession, s: Survey) -> AsyncIterator[list[str]]:
    """A header, then one row per answer: 序号 and the answers, in the survey's question order."""
    yield ["序号", *(f"{q['id']}. {q['text']}" for q in s.questions)]
    after, number = 0, 0
    while True:
        page, nxt = await answers_page(session, s, after, 1000)
        for _, values in page:
            number += 1
            yield [str(number), *(_cell(s, q["id"], values.get(q["id"])) for q in s.questions)]
        if nxt is None:
            return
        after = nxt


async def export_csv(session: AsyncSession, s: Survey) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    async for row in export_rows(session, s):
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")  # the BOM lets Excel read the Chinese


async def export_xlsx(session: AsyncSession, s: Survey) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("答卷")
    async for row in export_rows(session, s):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bar_chart(question: QuestionResultOut) -> str:
    """A horizontal bar per option with its count and percentage; self-contained SVG."""
    bar_x, bar_w, row_h = 220, 360, 28
    height = 40 + row_h * max(1, len(question.options))
    top = max((o.count for o in question.options), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="680" height="{height}" '
        f'viewBox="0 0 680 {height}" font-family="sans-serif" font-size="13" role="img">',
        f"<title>{escape(question.text)}</title>",
        f'<text x="10" y="20" font-weight="bold">{escape(question.text[:60])}（{question.answered} 人作答）</text>',
    ]
    for i, option in enumerate(question.options):
        y = 32 + i * row_h
        width = round(bar_w * option.count / top)
        parts += [
            f'<text x="10" y="{y + 17}">{escape(option.label[:24])}</text>',
            f'<rect x="{bar_x}" y="{y + 4}" width="{width}" height="{row_h - 10}" fill="#c0392b"/>',
            f'<text x="{bar_x + width + 6}" y="{y + 17}">{option.count}（{option.percent}%）</text>',
        ]
    if not question.options:
        parts.append(f'<text x="10" y="52">填空题，共 {question.answered} 份作答，详见导出</text>')
    parts.append("</svg>")
    return "".join(parts)
