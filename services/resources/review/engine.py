"""The reviewer: one pass over a text (and its markup) producing findings.

Context decides severity. A subject term (赌博, 色情, ...) on its own is at most a warning:
laws and enforcement notices discuss these subjects all the time. It blocks only beside spam
signals an official text never has: a casino brand, promotional phrasing (注册送, 日赚, ...)
outside a legal context, contact hooks (QQ, WeChat ids, non-government links), or hiding
markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from services.resources.review.gazetteer import Gazetteer
from services.resources.review.lexicon import SUBJECT_CATEGORIES, Lexicons
from services.resources.review.markup import Extracted, extract
from services.resources.review.privacy import find_privacy
from services.resources.review.tamper import TamperDetector

WINDOW = 80  # characters either side in which signals count as "near"
EXCERPT = 20

_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9.\-]+(?::\d+)?(?:/[^\s\"'<>，。）)]*)?", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![A-Za-z0-9.@/-])[A-Za-z0-9][A-Za-z0-9-]{0,62}\.(?:com|net|cc|vip|top|xyz|me|co|tv|bet|app|club|info|biz|in)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"(?:QQ|扣扣|企鹅)\s*[号:：]?\s*\d{5,11}|(?:微信|威信|薇信|VX|V信|wx)\s*[号:：]?\s*[A-Za-z][-_A-Za-z0-9]{5,19}",
    re.IGNORECASE,
)
# Links into the library itself: /api/resources/v1/resources/{id} and /objects/{sha256}.
_RESOURCE_LINK = re.compile(r"/api/resources/v1/resources/(\d+)")
_OBJECT_LINK = re.compile(r"/api/resources/v1/objects/([0-9a-f]{64})")


@dataclass(frozen=True)
class Finding:
    kind: str  # privacy | spam | hidden | link | reference
    severity: str  # block | warn
    excerpt: str
    offset: int
    rule: str
    detail: str = ""
    # Which detector fired and why, in words; rule and detail stay for existing readers.
    detector: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["detector"] = self.detector or self.rule.split(".", 1)[0]
        out["reason"] = self.reason or self.detail
        return out


@dataclass
class Review:
    text: str
    findings: list[Finding] = field(default_factory=list)
    resource_refs: list[tuple[int, int]] = field(default_factory=list)  # (resource id, offset)
    object_refs: list[tuple[str, int]] = field(default_factory=list)  # (sha256, offset)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "block"]


def _host(url: str) -> str:
    if url.lower().startswith("www."):
        url = "http://" + url
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class Reviewer:
    def __init__(self, lexicons: Lexicons, gazetteer: Gazetteer | None = None) -> None:
        self.lex = lexicons
        self.tamper = TamperDetector(gazetteer or Gazetteer.load())

    def excerpt(self, text: str, start: int, end: int | None = None) -> str:
        end = start + 1 if end is None else end
        return text[max(0, start - EXCERPT) : min(len(text), end + EXCERPT)].replace("\n", " ").strip()

    def review(
        self,
        *,
        text: str | None = None,
        html: str | None = None,
        title: str | None = None,
        own_names: Sequence[str] = (),
        previous: str | None = None,
    ) -> Review:
        """title: the page title when it is not the body's first line; own_names: the site's own
        organisation (an issuer name that is no division); previous: the text of the version
        this one replaces, to see issuer names swapped."""
        extracted = extract(html) if html is not None else Extracted(text=text or "")
        body = extracted.text
        result = Review(text=body)
        out = result.findings
        for rule, severity, start, end in find_privacy(body):
            out.append(Finding("privacy", severity, self.excerpt(body, start, end), start, rule))

        links = self._links(body, extracted)
        bad_link_offsets = self._review_links(body, links, result)
        self._review_hidden(body, extracted, out)
        self._review_terms(body, bad_link_offsets, out)
        titled = title is not None or (html is not None and html.lstrip()[:3].lower() == "<h1")
        self._review_tampering(body, title, own_names, previous, titled, out)
        out.sort(key=lambda f: (f.offset, f.rule))
        return result

    def _review_tampering(
        self,
        body: str,
        title: str | None,
        own_names: Sequence[str],
        previous: str | None,
        titled: bool,
        out: list[Finding],
    ) -> None:
        # The title is the first line of the page the public sees; findings in it sit at 0.
        shift = len(title) + 1 if title else 0
        page = f"{title}\n{body}" if title else body
        for hit, blocks in self.tamper.scan(page, own_names, previous, titled):
            offset = max(0, hit.start - shift)
            out.append(
                Finding(
                    "spam",
                    "block" if blocks else "warn",
                    self.excerpt(page, hit.start, hit.end),
                    offset,
                    hit.rule,
                    hit.token,
                    hit.detector,
                    hit.reason,
                )
            )

    # -- links ------------------------------------------------------------------------

    def _links(self, body: str, extracted: Extracted) -> list[tuple[str, int, str | None]]:
        links = [(link.url, link.offset, link.hidden) for link in extracted.links]
        if "." in body:
            for m in _URL.finditer(body):
                links.append((m.group(0), m.start(), None))
            for m in _BARE_DOMAIN.finditer(body):
                links.append(("http://" + m.group(0), m.start(), None))
        return links

    def _review_links(self, body: str, links: list[tuple[str, int, str | None]], result: Review) -> list[int]:
        """Findings for links; answers the offsets of links that are spam hooks."""
        hooks: list[int] = []
        seen: set[tuple[str, int]] = set()
        for url, offset, hidden in links:
            if (url, offset) in seen:
                continue
            seen.add((url, offset))
            excerpt = self.excerpt(body, offset) or url
            if hidden:
                result.findings.append(
                    Finding("hidden", "block", url[:120], offset, "hidden.link", f"隐藏方式: {hidden}")
                )
                hooks.append(offset)
            host = _host(url)
            if not host:
                self._internal_ref(url, offset, result)
                continue
            if self.lex.domain_allowed(host):
                self._internal_ref(url, offset, result)
                continue
            if self.lex.domain_blocked(host):
                result.findings.append(Finding("link", "block", excerpt, offset, "link.blocked-domain", host))
                hooks.append(offset)
            else:
                result.findings.append(
                    Finding("link", "warn", excerpt, offset, "link.commercial-domain", host)
                )
                hooks.append(offset)
        return hooks

    def _internal_ref(self, url: str, offset: int, result: Review) -> None:
        m = _RESOURCE_LINK.search(url)
        if m:
            result.resource_refs.append((int(m.group(1)), offset))
        m2 = _OBJECT_LINK.search(url)
        if m2:
            result.object_refs.append((m2.group(1), offset))

    # -- hidden markup ------------------------------------------------------------------

    def _review_hidden(self, body: str, extracted: Extracted, out: list[Finding]) -> None:
        for run in extracted.hidden:
            spam = [
                h for h in self.lex.scan(run.text) if h[2] in (*SUBJECT_CATEGORIES, "casino_brands", "promo")
            ]
            if spam:
                out.append(
                    Finding(
                        "hidden",
                        "block",
                        run.text[:60],
                        run.offset,
                        "hidden.spam-text",
                        f"隐藏方式: {run.reason}; 词语: {spam[0][1]}",
                    )
                )
            else:
                out.append(
                    Finding(
                        "hidden", "warn", run.text[:60], run.offset, "hidden.text", f"隐藏方式: {run.reason}"
                    )
                )

    # -- terms in context ---------------------------------------------------------------

    def _review_terms(self, body: str, hook_offsets: list[int], out: list[Finding]) -> None:
        hits = self.lex.scan(body)
        if not hits:
            return
        contacts = (
            [m.start() for m in _CONTACT.finditer(body)]
            if any(
                c in body
                for c in ("QQ", "qq", "扣扣", "企鹅", "微信", "威信", "薇信", "VX", "vx", "V信", "wx", "WX")
            )
            else []
        )
        hooks = sorted([*hook_offsets, *contacts])
        promos = [off for off, _, cat in hits if cat == "promo"]
        legal = [off for off, _, cat in hits if cat == "legal_context"]

        def near(offsets: list[int], at: int) -> bool:
            return any(abs(o - at) <= WINDOW for o in offsets)

        warned: set[str] = set()
        for offset, term, category in hits:
            end = offset + len(term)
            if category == "casino_brands":
                out.append(
                    Finding(
                        "spam", "block", self.excerpt(body, offset, end), offset, "spam.casino-brand", term
                    )
                )
            elif category in SUBJECT_CATEGORIES:
                if near(hooks, offset):
                    rule, severity = "spam.term-with-contact", "block"
                elif near(promos, offset) and not near(legal, offset):
                    rule, severity = "spam.promoted-term", "block"
                else:
                    if term in warned:
                        continue
                    warned.add(term)
                    rule, severity = f"spam.{category}-term", "warn"
                out.append(Finding("spam", severity, self.excerpt(body, offset, end), offset, rule, term))
            elif category == "promo" and term not in warned:
                warned.add(term)
                out.append(
                    Finding("spam", "warn", self.excerpt(body, offset, end), offset, "spam.promo", term)
                )


@lru_cache(maxsize=8)
def default_reviewer(extra_dir: Path | None = None) -> Reviewer:
    return Reviewer(Lexicons.load(extra_dir), Gazetteer.load(extra_dir))
