"""The bundle's line format (docs/import-format.md) and reading it line by line.

Every line is judged on its own: a line that is not JSON, fails the model, repeats a source
key or names a file the bundle lacks becomes a `Rejected` with its line number, and reading
goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.content.vocab import ImportFailure

SHANGHAI = ZoneInfo("Asia/Shanghai")
ITEMS_FILE = "items.jsonl"

EventKind = Literal["公布", "施行", "修订", "废止", "通过", "批准", "发布", "实施", "修正", "失效", "其他"]


def _instant(value: date | datetime) -> datetime:
    """A date is midnight in Beijing; a naive datetime is Beijing time (+08:00)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=500)
    name: str | None = Field(None, max_length=200)

    @field_validator("path")
    @classmethod
    def _inside(cls, value: str) -> str:
        parts = Path(value).parts
        if value.startswith(("/", "\\")) or ".." in parts or ":" in value:
            raise ValueError("附件路径须是数据包内的相对路径")
        return value

    @property
    def filename(self) -> str:
        return self.name or Path(self.path).name


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    date: date | datetime | None = None
    text: str | None = Field(None, max_length=300)


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["interprets", "interpreted_by"]
    source_key: str = Field(min_length=1, max_length=200)


class Item(BaseModel):
    """One line of items.jsonl."""

    model_config = ConfigDict(extra="forbid")

    source_key: str = Field(min_length=1, max_length=200)
    column: str = Field(min_length=1, max_length=500)
    title: str = Field(min_length=1, max_length=300)
    body_html: str = Field("", max_length=5_000_000)
    doc_number: str | None = Field(None, max_length=64)
    issuer: str | None = Field(None, max_length=100)
    index_number: str | None = Field(None, max_length=100)
    published_at: datetime
    written_at: date | None = None
    original_url: str | None = Field(None, max_length=1000)
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)
    validity: Literal["effective", "amended", "repealed"] | None = None
    events: list[Event] = Field(default_factory=list, max_length=50)
    archived: bool = False
    archived_at: datetime | None = None
    relations: list[Link] = Field(default_factory=list, max_length=20)
    genre: str | None = Field(None, max_length=32)
    topics: list[str] = Field(default_factory=list, max_length=20)
    keywords: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("published_at", mode="before")
    @classmethod
    def _date_or_datetime(cls, value: object) -> object:
        if isinstance(value, str) and len(value) == 10:
            return _instant(date.fromisoformat(value))
        return value

    @field_validator("published_at", "archived_at")
    @classmethod
    def _zone(cls, value: datetime | None) -> datetime | None:
        return _instant(value) if value is not None else None

    @model_validator(mode="after")
    def _archive_time(self) -> Item:
        if self.archived_at is not None and not self.archived:
            raise ValueError("archived_at 只能与 archived: true 一起给出")
        return self


@dataclass
class Line:
    number: int
    item: Item


@dataclass
class Rejected:
    number: int
    source_key: str | None
    reason: ImportFailure
    message: str


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(行)"
        parts.append(f"{where}: {err['msg']}")
    return "；".join(parts)


def read_bundle(folder: Path) -> Iterator[Line | Rejected]:
    """Each non-blank line of the bundle as an item or a rejection, in file order."""
    seen: set[str] = set()
    root = folder.resolve()
    with (folder / ITEMS_FILE).open("r", encoding="utf-8", errors="replace") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield Rejected(number, None, ImportFailure.MALFORMED, f"不是合法的 JSON：{exc.msg}（第 {exc.colno} 列）")
                continue
            if not isinstance(data, dict):
                yield Rejected(number, None, ImportFailure.MALFORMED, "一行须是一个 JSON 对象")
                continue
            key = data.get("source_key") if isinstance(data.get("source_key"), str) else None
            try:
                item = Item.model_validate(data)
            except ValidationError as exc:
                yield Rejected(number, key, ImportFailure.INVALID, _validation_message(exc))
                continue
            if item.source_key in seen:
                yield Rejected(number, key, ImportFailure.DUPLICATE, f"来源键 {key} 在数据包中已出现过")
                continue
            seen.add(item.source_key)
            missing = [a.path for a in item.attachments if not _is_file_inside(root, a.path)]
            if missing:
                yield Rejected(number, key, ImportFailure.MISSING_ATTACHMENT, f"附件文件不存在：{', '.join(missing)}")
                continue
            yield Line(number, item)


def _is_file_inside(root: Path, relative: str) -> bool:
    path = (root / relative).resolve()
    return path.is_relative_to(root) and path.is_file()
