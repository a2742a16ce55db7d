"""A static mirror of an old site → an import bundle (items.jsonl + files/) and a page report.

Pages are classified by path: excluded, a detail page of the first column whose `detail`
pattern matches, a list page (a column's `list` page or one of its numbered siblings), else a
detail page of the first column whose list links to it. A detail page becomes an item when its
title, body and date are found; every other page is reported with the reason.
"""

from __future__ import annotations

import json
import posixpath
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from selectolax.lexbor import LexborHTMLParser

from services.content.service.mirror.extract import FileLink, Page, read_page, resolve, squash
from services.content.service.mirror.mapping import (
    PAGE_SUFFIXES,
    ColumnRule,
    Mapping,
    glob_regex,
    looks_like_page,
    old_path,
)
from services.content.service.mirror.report import Note, Outcome, PageKind, PageReport, Report, SkipReason
from services.content.service.mirror.text import date_from_path, decode_page, iso, parse_date

ITEMS = "items.jsonl"
REPORT = "mirror-report.json"
# The bundle format's limits (docs/import-format.md) for values read by a label.
_LIMITS = {"doc_number": 64, "issuer": 100, "index_number": 100}


@dataclass(frozen=True)
class Listed:
    column: int
    date: datetime | None
    on: str  # the list page that links it


def site_root(mirror: Path, base_url: str) -> Path:
    """`wget --mirror http://www.x.gov.cn/` saves under `www.x.gov.cn/`; accept either folder."""
    host = mirror / urlsplit(base_url).netloc
    return host if host.is_dir() else mirror


def _pages(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES
    )


def _read(root: Path, path: str) -> tuple[str, str]:
    return decode_page((root / path).read_bytes())


class _Classifier:
    def __init__(self, mapping: Mapping, pages: list[str]) -> None:
        self.exclude = [glob_regex(p) for p in mapping.exclude]
        self.detail = [[glob_regex(p) for p in rule.detail] for rule in mapping.columns]
        self.lists: dict[str, int] = {}
        for i, rule in enumerate(mapping.columns):
            firsts = [glob_regex(p) for p in rule.list]
            siblings = [rule.page_pattern(page) for page in pages if any(f.fullmatch(page) for f in firsts)]
            for page in pages:
                if any(s.fullmatch(page) for s in siblings):
                    self.lists.setdefault(page, i)

    def excluded(self, path: str) -> bool:
        return any(p.fullmatch(path) for p in self.exclude)

    def detail_column(self, path: str) -> int | None:
        for i, patterns in enumerate(self.detail):
            if any(p.fullmatch(path) for p in patterns):
                return i
        return None


def _list_entries(html: str, page: str, rule: ColumnRule, base_url: str) -> list[tuple[str, datetime | None]]:
    tree = LexborHTMLParser(html)
    entries: list[tuple[str, datetime | None]] = []
    for node in tree.css(rule.list_item):
        link = node.css_first("a[href]")
        target = resolve(page, link.attributes.get("href") or "", base_url) if link is not None else None
        if target and target != page:
            entries.append((target, parse_date(node.text(separator=" "))))
    return entries


def _attachment(link: FileLink, root: Path, out: Path, report: PageReport) -> dict[str, str] | None:
    if link.target is None:
        report.note(Note.EXTERNAL_ATTACHMENT, link.href)
        return None
    plain = link.target.partition("?")[0]  # `a.pdf?v=2`: wget keeps the query in the file name
    ext = posixpath.splitext(plain)[1]
    name = link.name or posixpath.basename(plain)
    if not name.lower().endswith(ext.lower()):
        name += ext
    source = next((root / p for p in (link.target, plain) if (root / p).is_file()), None)
    if source is not None:
        dest = out / "files" / plain
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    else:
        report.note(Note.MISSING_ATTACHMENT, plain)
    return {"path": f"files/{plain}", "name": name}


def _key(path: str) -> str:
    """An item's source key: its old path, which the platform answers with 301 after import."""
    return f"/{old_path(path)}"


def _item(path: str, rule: ColumnRule, page: Page, published: datetime, base_url: str) -> dict[str, Any]:
    return {
        "source_key": _key(path),
        "column": rule.column,
        "title": page.title,
        "body_html": page.body_html,
        "doc_number": page.doc_number,
        "issuer": page.issuer,
        "index_number": page.index_number,
        "published_at": iso(published),
        "written_at": page.written_at.date().isoformat() if page.written_at else None,
        "original_url": base_url + _key(path),
        "attachments": [],
        "validity": None,
        "events": [],
        "archived": rule.archived,
        "archived_at": iso(rule.archived_at) if rule.archived_at else None,
        "relations": [],
        "genre": rule.genre,
        "topics": list(rule.topics),
    }


def _relate(
    claims: dict[str, tuple[list[str], list[str]]], reports: dict[str, PageReport], lists: dict[str, int]
) -> dict[str, list[dict[str, str]]]:
    """Each policy ↔ interpretation pair once, from whichever side links the other.

    `claims` holds, per item's mirror file, the files it links as its interpretations and as
    its policies; the answer is keyed by source key. Links to list pages (a navigation bar's
    政策解读) are not relations and pass silently."""
    pairs: set[tuple[str, str]] = set()
    for path, (interpretations, policies) in claims.items():
        for policy, interpretation in [(path, t) for t in interpretations] + [(t, path) for t in policies]:
            other = interpretation if policy == path else policy
            if other in lists:
                continue
            if other not in claims:
                reports[path].note(Note.RELATION_TARGET_NOT_IMPORTED, _key(other))
            else:
                pairs.add((policy, interpretation))
    relations: dict[str, list[dict[str, str]]] = {}
    for policy, interpretation in sorted(pairs):
        if (interpretation, policy) in pairs:
            reports[policy].note(Note.RELATION_CONFLICT, _key(interpretation))
            continue
        relations.setdefault(_key(policy), []).append(
            {"kind": "interpreted_by", "source_key": _key(interpretation)}
        )
        relations.setdefault(_key(interpretation), []).append(
            {"kind": "interprets", "source_key": _key(policy)}
        )
    return relations


@dataclass
class _Run:
    mapping: Mapping
    base: str
    root: Path
    out: Path
    files: dict[str, str]  # old path (with query) → its file in the mirror
    classes: _Classifier
    reports: dict[str, PageReport]
    listed: dict[str, Listed]

    def located(self, targets: list[str]) -> list[str]:
        return [f for t in targets if (f := self.files.get(t)) is not None]

    def read_lists(self) -> None:
        for path, col in self.classes.lists.items():
            rule = self.mapping.columns[col]
            report = self.reports[path] = PageReport(path, PageKind.LIST, Outcome.LIST, column=rule.column)
            try:
                html, report.encoding = _read(self.root, path)
                entries = _list_entries(html, old_path(path), rule, self.base)
            except (OSError, ValueError) as exc:
                report.outcome, report.reason = Outcome.SKIPPED, SkipReason.UNREADABLE
                report.notes.append({"kind": "error", "detail": squash(str(exc))[:200]})
                continue
            for old, when in entries:
                target = self.files.get(old)
                if target is None:
                    if looks_like_page(old):
                        report.note(Note.LISTED_PAGE_MISSING, f"/{old}")
                    continue
                if target in self.classes.lists or self.classes.excluded(target):
                    continue
                if target in self.listed and self.listed[target].column != col:
                    report.note(Note.LISTED_IN_TWO_COLUMNS, _key(target))
                else:
                    self.listed.setdefault(target, Listed(col, when, path))

    def detail(self, path: str) -> tuple[dict[str, Any], Page] | None:
        """The item a page makes, or None with the reason in its report."""
        if self.classes.excluded(path):
            self.reports[path] = PageReport(path, PageKind.OTHER, Outcome.SKIPPED, reason=SkipReason.EXCLUDED)
            return None
        at = self.classes.detail_column(path)
        entry = self.listed.get(path)
        if at is None and entry is not None:
            at = entry.column
        if at is None:
            self.reports[path] = PageReport(
                path, PageKind.OTHER, Outcome.SKIPPED, reason=SkipReason.UNMATCHED
            )
            return None
        rule = self.mapping.columns[at]
        report = self.reports[path] = PageReport(path, PageKind.DETAIL, Outcome.SKIPPED, column=rule.column)
        try:
            html, report.encoding = _read(self.root, path)
            page = read_page(html, old_path(path), self.base, rule.detail_rules)
        except (OSError, ValueError) as exc:
            report.reason = SkipReason.UNREADABLE
            report.notes.append({"kind": "error", "detail": squash(str(exc))[:200]})
            return None
        published = page.published_at or (entry.date if entry and entry.column == at else None)
        if published is None and rule.detail_rules.date_from_path:
            published = date_from_path(path)
        if not page.title:
            report.reason = SkipReason.NO_TITLE
        elif page.body_html is None:
            report.reason = SkipReason.NO_BODY
        elif published is None:
            report.reason = SkipReason.NO_DATE
        if report.reason is not None or published is None:
            return None
        item = _item(path, rule, page, published, self.base)
        for name, limit in _LIMITS.items():
            if item[name] is not None and len(item[name]) > limit:
                report.note(Note.VALUE_TOO_LONG, f"{name}: {item[name][:40]}…")
                item[name] = None
        item["attachments"] = [
            a for f in page.attachments if (a := _attachment(f, self.root, self.out, report))
        ]
        report.outcome, report.source_key = Outcome.ITEM, item["source_key"]
        return item, page


def convert_mirror(mirror: Path, mapping: Mapping, out: Path) -> Report:
    """Write the bundle for `mirror` into `out` (items.jsonl, files/, mirror-report.json)."""
    base = mapping.base_url.rstrip("/")
    root = site_root(mirror, base)
    pages = _pages(root)
    out.mkdir(parents=True, exist_ok=True)
    run = _Run(mapping, base, root, out, {old_path(p): p for p in pages}, _Classifier(mapping, pages), {}, {})
    run.read_lists()
    # Items go to disk as they are made (a department's archive need not fit in memory); their
    # relations, known only when every page has been read, are filled in on a second pass.
    claims: dict[str, tuple[list[str], list[str]]] = {}
    part = out / f"{ITEMS}.part"
    with part.open("wb") as pending:
        for path in pages:
            if path in run.classes.lists or (made := run.detail(path)) is None:
                continue
            item, page = made
            claims[path] = (run.located(page.interpretations), run.located(page.policies))
            pending.write(orjson.dumps(item) + b"\n")
    relations = _relate(claims, run.reports, run.classes.lists)
    with part.open("rb") as pending, (out / ITEMS).open("wb") as final:
        for line in pending:
            item = orjson.loads(line)
            item["relations"] = relations.get(item["source_key"], [])
            final.write(orjson.dumps(item) + b"\n")
    part.unlink()
    result = Report([run.reports[p] for p in sorted(run.reports)])
    (out / REPORT).write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return result
