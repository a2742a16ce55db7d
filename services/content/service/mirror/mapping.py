"""The mapping file: which mirrored paths are list and detail pages of which column, and where
on a detail page its title, date, 文号, issuer, 索引号, body, attachments and links to its
interpretation sit (docs/import-mirror.md has a complete example).

A path pattern is a glob on the path inside the mirror (`zcwj/**/t*_*.html`; `*` stays within a
folder, `**/` spans any number of folders) or, prefixed with `re:`, a regular expression that
must match the whole path.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from services.kernel.clock import WireDateTime


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# `meta[name='PubDate']@content`: the selector, then the attribute whose value is read.
ATTRIBUTE_SUFFIX = re.compile(r"^(?P<css>.+?)@(?P<attr>[A-Za-z_:][\w:.-]*)$")
_PROBE = LexborHTMLParser("<p></p>")


def _selector(value: str) -> str:
    """Refused when the file is read, not on the first page of a long run."""
    m = ATTRIBUTE_SUFFIX.match(value)
    try:
        _PROBE.css(m["css"] if m else value)
    except SelectolaxError as exc:
        raise ValueError(f"not a CSS selector: {value!r}") from exc
    return value


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {value!r} ({exc})") from exc
    return value


Strings = Annotated[list[str], BeforeValidator(_as_list)]
Selectors = Annotated[list[Annotated[str, AfterValidator(_selector)]], BeforeValidator(_as_list)]


def _path_pattern(value: str) -> str:
    try:
        glob_regex(value)
    except re.error as exc:
        raise ValueError(f"not a path pattern: {value!r} ({exc})") from exc
    return value


Patterns = Annotated[list[Annotated[str, AfterValidator(_path_pattern)]], BeforeValidator(_as_list)]
Regex = Annotated[str | None, AfterValidator(_regex)]

ATTACHMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".zip", ".wps", ".ofd", ".rar", ".et")
PAGE_SUFFIXES = (".html", ".htm", ".shtml")
_DYNAMIC = (".asp", ".aspx", ".jsp", ".php", ".do", ".action", ".cgi")


def looks_like_page(target: str) -> bool:
    return target.partition("?")[0].lower().endswith(PAGE_SUFFIXES + _DYNAMIC)


def old_path(mirrored: str) -> str:
    """The old site's path (and query) for a file of the mirror.

    `wget --adjust-extension` names `ShowArticle.asp?ArticleID=12` `ShowArticle.asp?ArticleID=12.html`;
    the old address is the one without the added suffix."""
    stem = mirrored.removesuffix(".html")
    return stem if stem != mirrored and ("?" in stem or stem.lower().endswith(_DYNAMIC)) else mirrored


def glob_regex(pattern: str) -> re.Pattern[str]:
    if pattern.startswith("re:"):
        return re.compile(pattern[3:])
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRule(_Strict):
    """Where one value is read: the first selector that matches (a CSS selector, optionally
    ending in `@attribute`), else the text after one of the labels in the info region; `pattern`
    then keeps its first group (or whole match) of the text found."""

    selector: Selectors = []
    label: Strings = []
    pattern: Regex = None


class LinkRule(_Strict):
    """Links to a related page: those matching a selector, or whose text contains a keyword."""

    selector: Selectors = []
    text: Strings = []


class DetailRules(_Strict):
    title: FieldRule = FieldRule(selector=["meta[name='ArticleTitle']@content", "h1"])
    # A prefix or suffix a site puts on every title, e.g. "_示范市人民政府$" (a regex, removed).
    title_strip: Regex = None
    date: FieldRule = FieldRule(
        selector=["meta[name='PubDate']@content"], label=["发布时间", "发布日期", "成文日期", "日期", "时间"]
    )
    # The day a TRS-style path carries (`t20190301_1001.html`) when the page itself shows none.
    date_from_path: bool = True
    # 成文日期, the day the document was signed; the importer defaults it to the publication day.
    written_at: FieldRule = FieldRule(label=["成文日期"])
    doc_number: FieldRule = FieldRule(label=["文号", "发文字号", "发文文号"])
    issuer: FieldRule = FieldRule(label=["发布机构", "发文机关", "发文单位", "来源"])
    index_number: FieldRule = FieldRule(label=["索引号"])
    # The region whose text the labels are looked for in (an info table); the whole page if none.
    info: Selectors = []
    body: Selectors = ["div.TRS_Editor", "#zoom", ".article-content"]
    # Removed from the body before it is kept (share buttons, "打印本页", QR codes…).
    remove: Selectors = []
    # Regions besides the body whose file links are attachments (an "附件：" box).
    attachments: Selectors = []
    attachment_extensions: Strings = list(ATTACHMENT_EXTENSIONS)
    # This page's interpretation(s); and, on an interpretation, the policy it interprets.
    interpretation: LinkRule = LinkRule(text=["解读"])
    policy: LinkRule = LinkRule(text=["政策原文", "原文", "相关文件"])


class ColumnRule(_Strict):
    column: str = Field(min_length=1, description="the target column's path: codes joined by '/'")
    list: Patterns = []
    detail: Patterns = []
    # Pages of a list beyond its first, named after it: index.html → index_1.html, index_2.html…
    pagination: str = "{stem}_{n}{suffix}"
    # On a list page, one entry per item: its first link is the item, its text may hold the date.
    list_item: Annotated[str, AfterValidator(_selector)] = "li"
    genre: str | None = None
    topics: Strings = []
    archived: bool = False
    archived_at: WireDateTime | None = None
    detail_rules: DetailRules = DetailRules()

    def page_pattern(self, first: str) -> re.Pattern[str]:
        """The first list page and its numbered siblings."""
        folder, _, name = first.rpartition("/")
        stem, dot, suffix = name.rpartition(".")
        sibling = self.pagination.format(stem=re.escape(stem), n=r"\d+", suffix=re.escape(dot + suffix))
        prefix = re.escape(folder + "/") if folder else ""
        return re.compile(f"{prefix}(?:{re.escape(name)}|{sibling})")


class Mapping(_Strict):
    # The old site's address: original_url = base_url + the page's path.
    base_url: str = Field(pattern=r"^https?://[^/]+/?$")
    # Mirror paths never imported (search pages, printable copies…).
    exclude: Patterns = []
    columns: list[ColumnRule] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _defaults_into_columns(cls, data: Any) -> Any:
        """`[detail]` holds every column's rules; a column's own `detail_rules` override per key."""
        if not isinstance(data, dict) or "detail" not in data:
            return data
        data = dict(data)
        shared = data.pop("detail") or {}
        data["columns"] = [
            {**column, "detail_rules": {**shared, **(column.get("detail_rules") or {})}}
            if isinstance(column, dict)
            else column
            for column in data.get("columns") or []
        ]
        return data


def load_mapping(path: Path) -> Mapping:
    text = path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else tomllib.loads(text)
    return Mapping.model_validate(raw)
