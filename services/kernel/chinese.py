"""Chinese-text normalisation that every service must do identically.

文号 (document numbers) are written with many bracket styles — 〔2017〕, [2017], （2017）,
【2017】, (2017) — and full-width digits; resources stores them normalised and search matches
them normalised, so both must use this one function.
"""

from __future__ import annotations

import re
import unicodedata

_BRACKETS = str.maketrans(
    {
        "[": "〔",
        "]": "〕",
        "［": "〔",
        "］": "〕",
        "(": "〔",
        ")": "〕",
        "（": "〔",
        "）": "〕",
        "【": "〔",
        "】": "〕",
        "{": "〔",
        "}": "〕",
        "〖": "〔",
        "〗": "〕",
        "﹝": "〔",
        "﹞": "〕",
        "⌈": "〔",
        "⌉": "〕",
    }
)
_SPACES = re.compile(r"\s+")
# issuer prefix, year in any brackets, serial, 号
DOC_NO_PATTERN = re.compile(
    r"^(?P<prefix>[\u4e00-\u9fffA-Za-z]{1,20})〔(?P<year>\d{4})〕(?P<serial>\d{1,6})号$"
)
DOC_NO_IN_TEXT = re.compile(
    r"[\u4e00-\u9fff]{1,12}\s*[\[［(（【〔{〖﹝]\s*\d{4}\s*[\]］)）】〕}〗﹞]\s*\d{1,6}\s*号"
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def halfwidth_digits(text: str) -> str:
    """Full-width ASCII (０-９, Ａ-Ｚ) to half-width; leaves CJK punctuation alone."""
    return "".join(
        chr(ord(ch) - 0xFEE0) if "\uff10" <= ch <= "\uff19" or "\uff21" <= ch <= "\uff5a" else ch
        for ch in text
    )


def normalize_doc_no(raw: str) -> str:
    """`国办发[2017]47号`, `国办发（2017）47号` and `国办发〔2017〕47号` all become the last."""
    text = halfwidth_digits(nfc(raw))
    text = _SPACES.sub("", text).translate(_BRACKETS)
    m = DOC_NO_PATTERN.match(text)
    if m:
        return f"{m['prefix']}〔{m['year']}〕{int(m['serial'])}号"
    return text


def is_doc_no(raw: str) -> bool:
    return bool(DOC_NO_PATTERN.match(normalize_doc_no(raw)))


def find_doc_nos(text: str) -> list[str]:
    """Every 文号 mentioned in a text, normalised."""
    return [normalize_doc_no(m.group(0)) for m in DOC_NO_IN_TEXT.finditer(text)]
