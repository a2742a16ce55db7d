"""One mirrored page read by a column's rules: its fields, its cleaned body and its links."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.content.service.mirror.mapping import (
    ATTRIBUTE_SUFFIX,
    DetailRules,
    FieldRule,
    LinkRule,
)
from services.content.service.mirror.text import label_value, parse_date
from services.kernel.chinese import normalize_doc_no

# Never part of an imported body: code, embedded frames and forms of the old site.
_DROPPED = "script, style, noscript, iframe, frame, form, object, embed, link, meta, base, template"
_SPACE = re.compile(r"[\s\u3000\xa0]+")
_EMPTY_VALUES = {"", "无", "-", "—", "/", "暂无"}


def squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    # The path inside the mirror it points to; None for another host or a non-http scheme.
    target: str | None


@dataclass(frozen=True)
class FileLink:
    href: str
    name: str
    target: str | None  # as Link.target


@dataclass
class Page:
    title: str | None = None
    published_at: datetime | None = None
    written_at: datetime | None = None
    doc_number: str | None = None
    issuer: str | None = None
    index_number: str | None = None
    body_html: str | None = None
    attachments: list[FileLink] = field(default_factory=list)
    interpretations: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)


def resolve(page_path: str, href: str, base_url: str) -> str | None:
    """The old site's path (with its query) `href` on `page_path` points to, or None when it
    leaves the old site. Paths and queries name mirror files as wget does."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    absolute = urljoin(f"{base_url}/{page_path}", href)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != urlsplit(base_url).netloc.lower():
        return None
    path = posixpath.normpath(unquote(parts.path)).lstrip("/")
    if parts.path.endswith("/") or path in ("", "."):
        # wget --mirror saves a directory's page as its index.html
        path = posixpath.join("" if path == "." else path, "index.html")
    return f"{path}?{parts.query}" if parts.query else path


def links(scope: LexborNode, page_path: str, base_url: str) -> list[Link]:
    return [
        Link(href, squash(a.text()), resolve(page_path, href, base_url))
        for a in scope.css("a[href]")
        if (href := a.attributes.get("href") or "")
    ]


def _first(tree: LexborHTMLParser, selectors: list[str]) -> LexborNode | None:
    for selector in selectors:
        node = tree.css_first(selector)
        if node is not None:
            return node
    return None


def _field(tree: LexborHTMLParser, info_text: str, rule: FieldRule) -> str | None:
    value: str | None = None
    for selector in rule.selector:
        m = ATTRIBUTE_SUFFIX.match(selector)
        node = tree.css_first(m["css"] if m else selector)
        if node is None:
            continue
        found = (node.attributes.get(m["attr"]) or "") if m else node.text(separator=" ")
        if squash(found):
            value = squash(found)
            break
    if value is None:
        for label in rule.label:
            if (value := label_value(info_text, label)) is not None:
                break
    if value is not None and rule.pattern:
        hit = re.search(rule.pattern, value)
        value = (hit.group(1) if hit and hit.groups() else hit.group(0)) if hit else None
    return None if value is None or value in _EMPTY_VALUES else value


def _related(tree: LexborHTMLParser, page: str, base_url: str, rule: LinkRule) -> list[str]:
    found: list[Link] = []
    for selector in rule.selector:
        for node in tree.css(selector):
            found += links(node, page, base_url)
            if node.tag == "a" and node.attributes.get("href"):
                href = node.attributes["href"] or ""
                found.append(Link(href, squash(node.text()), resolve(page, href, base_url)))
    if rule.text and tree.body is not None:
        found += [
            Link(href, text, resolve(page, href, base_url))
            for a in tree.body.css("a[href]")
            if (href := a.attributes.get("href") or "")
            and any(k in (text := squash(a.text())) or k in _lead_in(a) for k in rule.text)
        ]
    targets = [link.target for link in found if link.target]
    return [t for i, t in enumerate(targets) if t != page and t not in targets[:i]]


def _lead_in(a: LexborNode) -> str:
    """The words just before a link, where sites label it: `政策原文：<a>…</a>`."""
    prev = a.prev
    return squash(prev.text())[-12:] if prev is not None and prev.is_text_node else ""


def _is_file(target: str | None, href: str, extensions: list[str]) -> bool:
    path = (target.partition("?")[0] if target else urlsplit(href).path).lower()
    return path.endswith(tuple(ext.lower() for ext in extensions))


def _clean_body(node: LexborNode, page: str, base_url: str, rules: DetailRules, files: set[str]) -> str:
    """The selected region without code or chrome; links point where they will still work.

    A link to another page of the old site becomes its absolute old URL (which the platform
    answers with 301 to the imported item); a link to an attachment becomes the attachment's
    path in the bundle, as listed in the item's `attachments`.
    """
    for dropped in node.css(", ".join([_DROPPED, *rules.remove])):
        dropped.decompose()
    for child in list(node.traverse(include_text=False)):
        if child.is_comment_node:
            child.decompose()
            continue
        for attr in [a for a in child.attributes if a.lower().startswith("on")]:
            del child.attrs[attr]
        for attr in ("href", "src"):
            value = (child.attributes.get(attr) or "").strip()
            if not value:
                continue
            if value.lower().startswith(("javascript:", "vbscript:", "data:text")):
                del child.attrs[attr]
                continue
            target = resolve(page, value, base_url)
            if target is None:
                continue
            child.attrs[attr] = f"files/{target}" if target in files else urljoin(f"{base_url}/{page}", value)
    return node.html or ""


def read_page(html: str, page: str, base_url: str, rules: DetailRules) -> Page:
    """`page` is the page's old path (`old_path` of its mirror file): links resolve against it."""
    tree = LexborHTMLParser(html)
    for code in tree.css("script, style, noscript, template"):
        code.decompose()
    info_nodes = [n for s in rules.info for n in tree.css(s)] or ([tree.body] if tree.body else [])
    info_text = "\n".join(n.text(separator="\n") for n in info_nodes)
    out = Page()

    title = _field(tree, info_text, rules.title)
    if title and rules.title_strip:
        title = squash(re.sub(rules.title_strip, "", title)) or None
    out.title = title
    when = _field(tree, info_text, rules.date)
    out.published_at = parse_date(when) if when else None
    written = _field(tree, info_text, rules.written_at)
    out.written_at = parse_date(written) if written else None
    doc_number = _field(tree, info_text, rules.doc_number)
    out.doc_number = normalize_doc_no(doc_number) if doc_number else None
    out.issuer = _field(tree, info_text, rules.issuer)
    out.index_number = _field(tree, info_text, rules.index_number)
    out.interpretations = _related(tree, page, base_url, rules.interpretation)
    out.policies = _related(tree, page, base_url, rules.policy)

    body = _first(tree, rules.body)
    regions = [body] if body is not None else []
    regions += [n for s in rules.attachments for n in tree.css(s)]
    seen: dict[str, FileLink] = {}
    for region in regions:
        for link in links(region, page, base_url):
            key = link.target or link.href
            if _is_file(link.target, link.href, rules.attachment_extensions) and key not in seen:
                seen[key] = FileLink(link.href, link.text, link.target)
    out.attachments = list(seen.values())
    if body is not None:
        files = {f.target for f in out.attachments if f.target}
        out.body_html = _clean_body(body, page, base_url, rules, files)
    return out
