"""The word segmenter: jieba's dictionary and algorithm, compiled (rjieba, the jieba-rs binding).

jieba-rs ships jieba's own `dict.txt` (every one of its 349,046 words, same frequencies) and
cuts by the same maximum-probability route over the same DAG, so without HMM it yields jieba's
cuts: all 3,471 corpus texts (19.7 M characters) cut identically, measured when this replaced
pure-Python jieba, which ran about 15× slower and kept its prefix dictionary as ~500 k Python
objects in every process. `tests/search/test_segmenter.py` holds the two to the same cuts on a
sample, so an upgrade of either that changes a cut fails there before it splits an index.

HMM stays off: new-word guessing makes a cut depend on context, which would let the same word
be cut differently in a document and in a query.
"""

from __future__ import annotations

import rjieba


class Segmenter:
    """One dictionary: jieba's, plus the words added with `add_word` (user words, synonyms)."""

    def __init__(self) -> None:
        self._jieba = rjieba.Jieba()
        # Bound to the compiled methods: the index side calls them ~1,000 times per law.
        self.has_word = self._jieba.has_word

    def add_word(self, word: str, freq: int | None = None) -> None:
        """Like jieba's `add_word`: without a frequency, the one that keeps the word whole.

        Only while the analyzer builds it, before any thread cuts with it.
        """
        self._jieba.add_word(word, freq, None)

    def cut(self, text: str) -> list[str]:
        """Precise-mode cut (jieba's `cut(text, HMM=False)`): every character in some token."""
        return self._jieba.cut(text, False)
