"""The synonym groups (医保 = 医疗保险 = 医疗保障): one shipped file read by search's analysis
and by interaction's keyword subscriptions, so a word matches the same everywhere."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent / "data"


def synonym_files(folders: Iterable[Path]) -> list[Path]:
    """The shipped groups first, then each folder's synonyms*.txt (an operator's additions)."""
    out: list[Path] = []
    for folder in (SHIPPED_DIR, *folders):
        if folder.is_dir():
            out.extend(sorted(folder.glob("synonyms*.txt")))
    return out


def groups(path: Path) -> Iterable[list[str]]:
    """Each non-comment line is one group of NFC-normalised, lower-cased words."""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = unicodedata.normalize("NFC", raw.strip())
        if line and not line.startswith("#"):
            group = [normalize(w.strip()) for w in re.split(r"[,，]", line)]
            yield [w for w in group if w]


@lru_cache(maxsize=1)
def _shipped() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for path in synonym_files(()):
        for group in groups(path):
            for word in group:
                merged = table.setdefault(word, [])
                merged.extend(w for w in group if w != word and w not in merged)
    return {word: tuple(others) for word, others in table.items()}


def normalize(text: str) -> str:
    """NFKC folds full-width Latin and digits to half-width; Latin is matched case-free."""
    return unicodedata.normalize("NFKC", text).lower()


def expand(word: str) -> list[str]:
    """The word and its shipped synonyms, the word first."""
    norm = normalize(word.strip())
    return [norm, *_shipped().get(norm, ())]
