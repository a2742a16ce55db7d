"""Lexicons as data files: the shipped ones plus an operator folder that extends them.

Terms are matched with one trie-shaped regex per lexicon set, so scanning cost grows with
the text and barely with the number of terms (an alternation of 200 literals would try each
of them at every position).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data"
LEXICON_FILES = (
    "gambling",
    "porn",
    "illegal_ad",
    "casino_brands",
    "promo",
    "legal_context",
    "domains_allow",
    "domains_block",
)
# The lexicons whose terms count as a subject an attacker advertises.
SUBJECT_CATEGORIES = ("gambling", "porn", "illegal_ad")


def read_terms(path: Path) -> list[str]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if term:
            out.append(term)
    return out


def _char(ch: str) -> str:
    # ASCII letters match either case through a class rather than re.IGNORECASE: with the flag
    # the regex engine can no longer skip ahead by the set of first characters, which makes a
    # scan several times slower.
    if ch.isascii() and ch.isalpha():
        return f"[{ch.lower()}{ch.upper()}]"
    return re.escape(ch)


def trie_pattern(terms: list[str]) -> str:
    """A regex equivalent to `term1|term2|...` that prefers the longest term at a position."""
    trie: dict[str, dict] = {}
    for term in terms:
        node = trie
        for ch in term.lower():
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [_char(ch) + render(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?"
        return body

    return render(trie)


_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


def _first_chars(words: list[str]) -> re.Pattern[str] | None:
    firsts = sorted({c for w in words for c in (w[0].lower(), w[0].upper())})
    return re.compile("[" + "".join(re.escape(c) for c in firsts) + "]") if firsts else None


def _compile(words: list[str]) -> re.Pattern[str] | None:
    return re.compile(trie_pattern(words)) if words else None


@dataclass(frozen=True)
class Lexicons:
    terms: dict[str, tuple[str, ...]]
    category_of: dict[str, str]
    # Terms starting with a CJK character: every branch starts with a literal, so the regex
    # engine skips straight to candidate characters. Terms starting with an ASCII letter or
    # digit are tried only where an ASCII word starts.
    matcher: re.Pattern[str] | None
    ascii_matcher: re.Pattern[str] | None
    # The first characters of those terms: the scan jumps to them instead of visiting every
    # ASCII word (dates and article numbers are most of them).
    ascii_first: re.Pattern[str] | None = None

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> Lexicons:
        terms: dict[str, list[str]] = {}
        for name in LEXICON_FILES:
            found = read_terms(SHIPPED_DIR / "lexicons" / f"{name}.txt")
            if extra_dir is not None:
                found += read_terms(Path(extra_dir) / f"{name}.txt")
            terms[name] = list(dict.fromkeys(found))
        category_of: dict[str, str] = {}
        # Later categories win on a clash; brands first so a brand stays a brand.
        for name in ("legal_context", "promo", *SUBJECT_CATEGORIES, "casino_brands"):
            for term in terms[name]:
                category_of[term.lower()] = name
        words = sorted(category_of)
        ascii_first = [w for w in words if w[0].isascii() and w[0].isalnum()]
        return cls(
            terms={k: tuple(v) for k, v in terms.items()},
            category_of=category_of,
            matcher=_compile([w for w in words if w not in set(ascii_first)]),
            ascii_matcher=_compile(ascii_first),
            ascii_first=_first_chars(ascii_first),
        )

    def scan(self, text: str) -> list[tuple[int, str, str]]:
        """(offset, matched text, category) for every lexicon term in the text."""
        out = []
        if self.matcher is not None:
            for m in self.matcher.finditer(text):
                if m.end() > m.start():
                    out.append((m.start(), m.group(0), self.category_of[m.group(0).lower()]))
        if self.ascii_matcher is not None and self.ascii_first is not None:
            for first in self.ascii_first.finditer(text):
                at = first.start()
                if at and _ASCII_ALNUM.match(text, at - 1):
                    continue  # inside a word: terms match from a word's start only
                hit = self.ascii_matcher.match(text, at)
                if hit and hit.end() > hit.start():
                    out.append((hit.start(), hit.group(0), self.category_of[hit.group(0).lower()]))
            out.sort()
        return out

    def domain_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.terms["domains_allow"])

    def domain_blocked(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for pattern in self.terms["domains_block"]:
            if pattern.startswith("."):
                if host.endswith(pattern):
                    return True
            elif pattern in host:
                return True
        return False
