"""What the converter says about every page it saw: made into an item, a list, or skipped and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class PageKind(StrEnum):
    LIST = "list"
    DETAIL = "detail"
    OTHER = "other"


class Outcome(StrEnum):
    ITEM = "item"
    LIST = "list"
    SKIPPED = "skipped"


class SkipReason(StrEnum):
    EXCLUDED = "excluded"
    UNMATCHED = "unmatched_url_pattern"
    UNREADABLE = "unreadable"
    NO_TITLE = "no_title_match"
    NO_BODY = "no_body_match"
    NO_DATE = "no_date"


class Note(StrEnum):
    """Something wrong on a page that did not stop it from being converted."""

    MISSING_ATTACHMENT = "missing_attachment"  # carried into the bundle; the importer reports it
    EXTERNAL_ATTACHMENT = "external_attachment"  # on another host: kept as a link in the body only
    LISTED_PAGE_MISSING = "listed_page_missing"  # a list links a page the mirror does not hold
    LISTED_IN_TWO_COLUMNS = "listed_in_two_columns"  # kept in the first column that lists it
    RELATION_TARGET_NOT_IMPORTED = "relation_target_not_imported"
    RELATION_CONFLICT = "relation_conflict"  # two pages each claim to interpret the other
    # A label matched far more text than a 文号, issuer or 索引号 can be: left out, not imported wrong.
    VALUE_TOO_LONG = "value_too_long"


@dataclass
class PageReport:
    path: str
    kind: PageKind
    outcome: Outcome
    column: str | None = None
    reason: SkipReason | None = None
    source_key: str | None = None
    encoding: str | None = None
    notes: list[dict[str, str]] = field(default_factory=list)

    def note(self, kind: Note, detail: str) -> None:
        self.notes.append({"kind": kind.value, "detail": detail})


@dataclass
class Report:
    pages: list[PageReport] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for p in self.pages if p.outcome is outcome)

    def skipped(self) -> Counter[str]:
        return Counter(p.reason.value for p in self.pages if p.reason is not None)

    def notes(self) -> Counter[str]:
        return Counter(n["kind"] for p in self.pages for n in p.notes)

    def as_json(self) -> dict[str, Any]:
        return {
            "pages_seen": len(self.pages),
            "list_pages": self.count(Outcome.LIST),
            "items": self.count(Outcome.ITEM),
            "skipped": self.count(Outcome.SKIPPED),
            "skipped_by_reason": dict(sorted(self.skipped().items())),
            "notes_by_kind": dict(sorted(self.notes().items())),
            "pages": [{k: v for k, v in asdict(p).items() if v not in (None, [])} for p in self.pages],
        }
