"""Reading HTML the way a reviewer must: every text run, including the ones a browser hides.

Attackers hide dark links (暗链) with inline styles, `<style>` rules, the `hidden` attribute,
zero sizes and off-screen positions. Review runs on the raw HTML before sanitising, because
sanitising drops the very styles that reveal the trick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "section",
    "article",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "hr",
    "td",
    "th",
}
_VOID_TAGS = {"br", "img", "hr", "meta", "link", "input", "source", "area", "col", "embed", "wbr"}
_SKIP_TEXT_TAGS = {"script", "style", "noscript", "template"}

_HIDING_RULES = (
    ("display:none", re.compile(r"display\s*:\s*none")),
    ("visibility:hidden", re.compile(r"visibility\s*:\s*hidden")),
    ("font-size:0", re.compile(r"font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)")),
    ("opacity:0", re.compile(r"opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)")),
    (
        "off-screen",
        re.compile(r"(?:left|top|right|text-indent|margin-left|margin-top)\s*:\s*-\s*\d{3,}"),
    ),
)
_ZERO_BOX = re.compile(r"(?:^|;)\s*(?:height|width|max-height|max-width)\s*:\s*0(?:px)?\s*(?:;|$|!)")
_OVERFLOW_HIDDEN = re.compile(r"overflow\s*:\s*hidden")
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def hiding_reason(style: str) -> str | None:
    style = style.lower()
    for name, pattern in _HIDING_RULES:
        if pattern.search(style):
            return name
    if _ZERO_BOX.search(style) and _OVERFLOW_HIDDEN.search(style):
        return "zero-size+overflow:hidden"
    return None


@dataclass
class Link:
    url: str
    offset: int  # in the extracted text
    hidden: str | None  # why it is hidden, or None


@dataclass
class HiddenRun:
    reason: str
    offset: int
    text: str


@dataclass
class Extracted:
    text: str
    links: list[Link] = field(default_factory=list)
    hidden: list[HiddenRun] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        # (tag, hiding reason or None) per open element
        self.stack: list[tuple[str, str | None]] = []
        self.hidden_classes: dict[str, str] = {}
        self.hidden_ids: dict[str, str] = {}
        self.links: list[Link] = []
        self.hidden: list[HiddenRun] = []
        self.in_style = False
        self.skip_depth = 0

    def _hidden_now(self) -> str | None:
        for _, reason in reversed(self.stack):
            if reason:
                return reason
        return None

    def _append(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def _reason_for(self, attrs: dict[str, str]) -> str | None:
        if "hidden" in attrs:
            return "hidden-attribute"
        reason = hiding_reason(attrs.get("style", ""))
        if reason:
            return reason
        for cls in attrs.get("class", "").split():
            if cls in self.hidden_classes:
                return f".{cls} {{{self.hidden_classes[cls]}}}"
        ident = attrs.get("id", "")
        if ident and ident in self.hidden_ids:
            return f"#{ident} {{{self.hidden_ids[ident]}}}"
        return None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k.lower(): (v or "") for k, v in attrs_list}
        if tag in _BLOCK_TAGS:
            self._append("\n")
        if tag in _SKIP_TEXT_TAGS:
            self.skip_depth += 1
            self.in_style = tag == "style"
            return
        reason = self._reason_for(attrs)
        for key in ("href", "src"):
            url = attrs.get(key, "").strip()
            if url and not url.startswith(("#", "data:", "mailto:", "javascript:")):
                self.links.append(Link(url=url, offset=self.length, hidden=reason or self._hidden_now()))
        if tag not in _VOID_TAGS:
            self.stack.append((tag, reason))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TEXT_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            self.in_style = False
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if tag in _BLOCK_TAGS:
            self._append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            if self.in_style:
                self._read_css(data)
            return
        reason = self._hidden_now()
        if reason and data.strip():
            self.hidden.append(HiddenRun(reason=reason, offset=self.length, text=data.strip()))
        self._append(data)

    def _read_css(self, css: str) -> None:
        for selectors, body in _CSS_RULE.findall(css):
            reason = hiding_reason(body)
            if not reason:
                continue
            for selector in selectors.split(","):
                selector = selector.strip()
                if re.fullmatch(r"[\w-]*\.[\w-]+", selector):
                    self.hidden_classes[selector.split(".", 1)[1]] = reason
                elif re.fullmatch(r"[\w-]*#[\w-]+", selector):
                    self.hidden_ids[selector.split("#", 1)[1]] = reason


def extract(html: str) -> Extracted:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return Extracted(text="".join(reader.parts), links=reader.links, hidden=reader.hidden)


_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")


def plain_text(html: str) -> str:
    """The readable text of sanitised HTML: one blank line between blocks, spaces folded."""
    text = extract(html).text
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
