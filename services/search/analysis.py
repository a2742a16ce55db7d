"""Chinese analysis, one module for indexing and querying alike.

Both sides must cut text the same way or a query word never meets its indexed twin, so the
segmenter, the dictionaries and the normalisation live here and nowhere else, and both engines
index and query the tokens this module makes. The segmenter is jieba's dictionary and cut,
compiled (`segmenter.py`), in its own instance with the user words and synonyms added.

Each text yields two token streams: the precise cut (positions meaningful, used for phrases)
and the extra sub-words that search mode adds inside long words (中华人民共和国 → 中华, 人民,
共和国 …), so a 2-character query matches inside a 4-character word and vice versa.

A third stream ignores words altogether: overlapping character bigrams, as Lucene's CJK
analyzer makes them. A fragment typed from the middle of a title (区人民政府办公室) is cut by
jieba at other boundaries than the title was (西城区 | 人民政府), so its words never meet; its
bigrams are the title's bigrams, and a phrase of them matches wherever the characters do.
"""

from __future__ import annotations

import logging
import operator
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from services.kernel.synonyms import groups as synonym_groups
from services.kernel.synonyms import normalize as normalize
from services.kernel.synonyms import synonym_files
from services.search.identifiers import mentioned_identifiers, query_identifier
from services.search.segmenter import Segmenter

log = logging.getLogger("jiyue.search.analysis")

SHIPPED_DICT_DIR = Path(__file__).resolve().parent / "data"
# The longest query we analyse; the rest of a pasted page adds nothing but cost.
MAX_QUERY_WORDS = 24
_WORD_CHAR = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]")
_RUN = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]+")
# a bigram unit: one ideograph or digit (a fragment may start inside 2026), or a Latin word
_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff0-9]|[a-z]+")
_LATIN = re.compile(r"[a-z]")
_INDEX_NO = re.compile(r"^[0-9a-z]{6,30}(?:[/\-][0-9a-z\-]{1,30}){1,4}$")


def is_word(token: str) -> bool:
    """Tokens worth indexing: anything with a letter, digit or ideograph (punctuation is not)."""
    return bool(_WORD_CHAR.search(token))


def bigrams(text: str, *, normalized: bool = False) -> list[str]:
    """Overlapping pairs of units within each run of word characters; a lone unit stays whole.

    Runs end at punctuation and spaces, so no pair spans 《》 or a comma; 令第379号 pairs as
    令第 第3 37 79 9号, so 第379号 or 79号 typed alone meets it. `normalized`: the caller has
    already passed the text through `normalize` (a law's body is worth not folding twice).
    """
    out: list[str] = []
    for match in _RUN.finditer(text if normalized else normalize(text)):
        run = match.group()
        units: Sequence[str] = _UNIT.findall(run) if _LATIN.search(run) else run
        if len(units) == 1:
            out.append(units[0])
        else:
            out.extend(map(operator.add, units[:-1], units[1:]))
    return out


def normalize_index_no(raw: str) -> str:
    return re.sub(r"\s+", "", normalize(raw))


@dataclass
class Analyzed:
    precise: list[str]
    sub: list[str]


@dataclass
class WordClause:
    """One query word: it matches when any alternative (itself or a synonym) matches.

    An alternative is a token sequence: one token is a term, several are a phrase.
    """

    word: str
    alternatives: list[list[str]]


@dataclass
class ParsedQuery:
    text: str
    words: list[WordClause] = field(default_factory=list)
    # the whole query as a phrase (precise tokens), for the proximity boost
    phrase: list[str] = field(default_factory=list)
    # bigram phrases, one per space-separated part of the query: all must match somewhere
    fragments: list[list[str]] = field(default_factory=list)
    # set when the query IS a 文号 or decree number (its identifier key) / an 索引号:
    # then only exact matches answer
    doc_no: str | None = None
    index_no: str | None = None
    # identifier keys mentioned inside a longer query, boosted when they match exactly
    identifiers: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.words and not self.doc_no and not self.index_no


def _dictionary_files(folders: Iterable[Path], stem: str) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            out.extend(sorted(folder.glob(f"{stem}*.txt")))
    return out


def _data_lines(path: Path) -> Iterable[str]:
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield unicodedata.normalize("NFC", line)


class Analyzer:
    """Segmentation with the government user dictionary and the synonym groups."""

    def __init__(self, extra_dict_dir: Path | None = None) -> None:
        self.folders = [SHIPPED_DICT_DIR] + ([extra_dict_dir] if extra_dict_dir else [])
        self._segmenter: Segmenter | None = None
        self._lock = threading.Lock()
        self.synonyms: dict[str, list[str]] = {}
        self.user_words: list[str] = []

    # -- set-up -----------------------------------------------------------------------

    @property
    def segmenter(self) -> Segmenter:
        """Built on first use (about 0.4 s: the compiled dictionary, then the added words)."""
        if self._segmenter is None:
            with self._lock:
                if self._segmenter is None:
                    self._segmenter = self._build()
        return self._segmenter

    def _build(self) -> Segmenter:
        seg = Segmenter()
        words: list[str] = []
        for path in _dictionary_files(self.folders, "userdict"):
            for line in _data_lines(path):
                parts = line.split()
                word = normalize(parts[0])
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                seg.add_word(word, freq)
                words.append(word)
        synonyms: dict[str, list[str]] = {}
        for path in synonym_files(self.folders):
            for group in synonym_groups(path):
                for word in group:
                    # Synonyms must be whole tokens themselves, or 医保 would be cut to 医/保.
                    if not seg.has_word(word):
                        seg.add_word(word, 1000)
                    merged = synonyms.setdefault(word, [])
                    merged.extend(w for w in group if w != word and w not in merged)
        self.synonyms = synonyms
        self.user_words = words
        return seg

    # -- analysis ---------------------------------------------------------------------

    def cut(self, text: str) -> list[str]:
        """Precise-mode words of normalised text, punctuation and spaces dropped."""
        return [t for t in self.segmenter.cut(normalize(text)) if is_word(t)]

    def analyze(self, text: str, *, normalized: bool = False) -> Analyzed:
        """Index-side analysis: precise words plus the sub-words search mode adds."""
        segmenter = self.segmenter
        has_word = segmenter.has_word
        # the C-level filter keeps the per-token cost of a 100,000-character law low
        precise = list(filter(_WORD_CHAR.search, segmenter.cut(text if normalized else normalize(text))))
        sub: list[str] = []
        for word in precise:
            n = len(word)
            if n <= 2:
                continue
            # What jieba.cut_for_search adds: dictionary 2- and 3-grams inside longer words.
            sub.extend(filter(has_word, [word[i : i + 2] for i in range(n - 1)]))
            # Longer dictionary words inside still longer ones (营商环境 in 优化营商环境), which
            # search mode misses: a user-dictionary term must match wherever it appears.
            for size in range(3, min(n - 1, 8) + 1):
                sub.extend(filter(has_word, [word[i : i + size] for i in range(n - size + 1)]))
        return Analyzed(precise=precise, sub=sub)

    def synonyms_of(self, word: str) -> list[str]:
        _ = self.segmenter
        return self.synonyms.get(word, [])

    def vocabulary(self) -> list[str]:
        """Dictionary terms an operator cares about: the user words and every synonym."""
        _ = self.segmenter
        return sorted({*self.user_words, *self.synonyms})

    def parse_query(self, raw: str) -> ParsedQuery:
        text = unicodedata.normalize("NFC", raw).strip()
        parsed = ParsedQuery(text=text)
        if not text:
            return parsed
        identifier = query_identifier(text)
        if identifier:
            parsed.doc_no = identifier
            return parsed
        compact = normalize_index_no(text)
        if _INDEX_NO.match(compact):
            parsed.index_no = compact
        parsed.identifiers = mentioned_identifiers(text)
        words: list[str] = []
        for part in text.split():
            grams = bigrams(part)[:MAX_QUERY_WORDS]
            # a lone character adds no recall the words miss, only a near-universal phrase
            if grams and not (len(grams) == 1 and _UNIT.fullmatch(grams[0])):
                parsed.fragments.append(grams)
            for word in self.cut(part):
                if word not in words:
                    words.append(word)
                if len(words) >= MAX_QUERY_WORDS:
                    break
        # Parts typed apart are separate things (a title and its issuer): no phrase across them.
        if len(text.split()) == 1:
            parsed.phrase = self.cut(text)[:MAX_QUERY_WORDS]
        for word in words:
            alternatives = [[word]]
            for synonym in self.synonyms_of(word):
                tokens = self.cut(synonym)
                if tokens and tokens not in alternatives:
                    alternatives.append(tokens)
            parsed.words.append(WordClause(word=word, alternatives=alternatives))
        return parsed


_shared: dict[str, Analyzer] = {}
_shared_lock = threading.Lock()


def get_analyzer(extra_dict_dir: Path | None = None) -> Analyzer:
    """One analyzer per configuration per process: the dictionary is loaded once."""
    key = str(extra_dict_dir or "")
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Analyzer(extra_dict_dir)
        return _shared[key]
