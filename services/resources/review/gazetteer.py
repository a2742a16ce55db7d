"""The administrative divisions (GB/T 2260) as names a place slot may hold.

A defaced page keeps the official frame (「X市人民政府办公室关于…」, 「X政办发」) and swaps the
place for a brand; the frame still asks for a place, so the question a lexicon cannot answer —
is X a gambling brand? — becomes one a gazetteer can: is X a place?
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from services.resources.review.lexicon import SHIPPED_DIR, read_terms

GAZETTEER_DIR = SHIPPED_DIR / "gazetteer"
# Longest first, so 「自治县」 is stripped before 「县」.
_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "新区",
    "省",
    "市",
    "区",
    "县",
    "州",
    "盟",
    "旗",
)


def _read_divisions(path: Path) -> list[str]:
    names = []
    for line in read_terms(path):
        parts = line.split("\t")
        if len(parts) == 2 and parts[0].isdigit():
            names.append(parts[1].strip())
    return names


@dataclass(frozen=True)
class Gazetteer:
    full: frozenset[str]  # 丹东市, 宽甸满族自治县
    short: frozenset[str]  # 丹东, 宽甸 (two characters or more)
    longest: int
    # What laws write before 人民政府 instead of a place (各级, 本级, 县级以上 …)
    generic: tuple[str, ...] = ()

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> Gazetteer:
        names = _read_divisions(GAZETTEER_DIR / "divisions.tsv")
        if extra_dir is not None:
            names += _read_divisions(Path(extra_dir) / "divisions.tsv")
        nations = read_terms(GAZETTEER_DIR / "nations.txt")
        generic = read_terms(GAZETTEER_DIR / "generic.txt")
        if extra_dir is not None:
            generic += read_terms(Path(extra_dir) / "generic.txt")
        ethnic = (
            re.compile("(?:" + "|".join(sorted(nations, key=len, reverse=True)) + ")+$") if nations else None
        )
        short: set[str] = set()
        for name in names:
            stem = name
            for suffix in _SUFFIXES:
                if stem.endswith(suffix) and len(stem) > len(suffix) + 1:
                    stem = stem[: -len(suffix)]
                    break
            if ethnic is not None:
                stem = ethnic.sub("", stem) or stem
            if len(stem) >= 2:
                short.add(stem)
        full = frozenset(names)
        return cls(
            full=full,
            short=frozenset(short),
            longest=max(map(len, full | short), default=0),
            generic=tuple(dict.fromkeys(generic)),
        )

    def is_place(self, name: str) -> bool:
        return name in self.full or name in self.short

    def place_suffix(self, run: str) -> str | None:
        """The longest division name the run ends with, if any."""
        for k in range(min(len(run), self.longest), 1, -1):
            tail = run[-k:]
            if tail in self.full or tail in self.short:
                return tail
        return None

    def place_in(self, text: str) -> str | None:
        """The first division name anywhere in a short text (a title)."""
        for i in range(len(text) - 1):
            for k in range(min(self.longest, len(text) - i), 1, -1):
                if text[i : i + k] in self.full or text[i : i + k] in self.short:
                    return text[i : i + k]
        return None
