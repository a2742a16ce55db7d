"""An archived interview's transcript as the HTML body of a library resource.

Built from the stream entries alone: a question becomes an entry only when a person approved it,
and then with its redacted text, so pending, rejected and machine-blocked questions cannot reach
the page. Images are `<img>` by URL; video links and media held in the library are links (the
library checks that a `/api/resources/v1/resources/{id}` link leads to a resource it holds).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from services.interaction.models import Interview, InterviewEntry
from services.interaction.schemas.interviews import EntryKind, MediaKind
from services.kernel import clock

LIBRARY = "/api/resources/v1/resources"
_KIND_LABEL = {EntryKind.QUESTION: "网友提问", EntryKind.ANSWER: "答复", EntryKind.NOTE: "主持词"}


def _text(value: str) -> str:
    return "<br>".join(html.escape(line) for line in value.split("\n"))


def _when(epoch_seconds: float | None) -> str:
    if epoch_seconds is None:
        return ""
    return datetime.fromtimestamp(epoch_seconds, clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _media(item: dict[str, Any]) -> str:
    caption = html.escape(item.get("caption") or "")
    href = item.get("url") or f"{LIBRARY}/{item.get('resource_id')}"
    src = html.escape(href, quote=True)
    if item.get("kind") == MediaKind.IMAGE and item.get("url"):
        return f'<p class="media image"><img src="{src}" alt="{caption}"><br>{caption}</p>'
    label = caption or ("视频" if item.get("kind") == MediaKind.VIDEO else "图片")
    what = "视频" if item.get("kind") == MediaKind.VIDEO else "图片"
    return f'<p class="media {html.escape(str(item.get("kind")))}">{what}：<a href="{src}">{label}</a></p>'


def _person(person: dict[str, Any]) -> str:
    title = f"（{person['title']}）" if person.get("title") else ""
    return html.escape(f"{person['name']}{title}")


def render(interview: Interview, rows: list[InterviewEntry]) -> str:
    parts = [
        f"<p>{_text(interview.summary)}</p>" if interview.summary else "",
        f"<p>访谈时间：{_when(interview.started_at)} 至 {_when(interview.ended_at)}</p>",
        f"<p>主持人：{_person(interview.host)}</p>",
        "<p>嘉宾：" + "、".join(_person(g) for g in interview.guests) + "</p>",
    ]
    for entry in rows:
        kind = EntryKind(entry.kind)
        if kind == EntryKind.STATE:
            continue
        label = html.escape(entry.author or _KIND_LABEL[kind])
        parts.append(
            f'<div class="entry {kind.value}" id="entry-{entry.seq}">'
            f"<p><strong>{label}</strong>：{_text(entry.text)}</p>"
            + "".join(_media(m) for m in entry.media)
            + "</div>"
        )
    return "".join(p for p in parts if p)
