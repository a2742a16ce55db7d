"""Personal data that must not be published (article 28): ID numbers, phones, cards, addresses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Province codes of GB/T 2260 (first two digits).
_ID_REGIONS = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
    "91",
}

ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
# Starts with a literal so the engine can skip to candidate positions; +86 is looked at after.
MOBILE = re.compile(r"1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9A-Za-z])")
_COUNTRY_CODE = re.compile(r"(?:\+?86[- ]?)$")
CARD = re.compile(r"[0-9]{4}(?:[ -]?[0-9]{3,4}){3,4}(?![0-9A-Za-z])")
# 路/街/巷 + 号 + (楼/栋/单元) + 室: the shape of a flat, not of an office building.
ADDRESS = re.compile(
    r"(?:路|街|巷|道|弄|胡同|村|小区|花园|家园|公寓)\s*[0-9０-９一二三四五六七八九十百零]+号"
    r"[^，。；;,\n]{0,16}?[0-9０-９]+\s*室"
)
_HOME_CONTEXT = re.compile(r"(?:家庭住址|住址|家住|现住|居住地|户籍地|住所地|住所)[:：]?")
# Card issuer prefixes worth reporting: UnionPay 62, Visa 4, Mastercard 51-55/22-27, Amex 34/37,
# JCB 35; other digit runs (accounts of organisations, serials) are not personal cards.
_CARD_IIN = re.compile(r"^(?:62|4|5[1-5]|2[2-7]|3[47]|35)")


def id_number_valid(value: str, today: date | None = None) -> bool:
    """GB 11643: check digit over the first 17 digits, a real region and birth date."""
    value = value.upper()
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return False
    if value[:2] not in _ID_REGIONS:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    today = today or date.today()
    return date(1900, 1, 1) <= born <= today


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def card_number_valid(digits: str) -> bool:
    return 16 <= len(digits) <= 19 and bool(_CARD_IIN.match(digits)) and luhn_valid(digits)


def _glued(text: str, start: int) -> bool:
    """Part of a longer code (letters or digits right before it)? The patterns start with a
    plain character class instead of a look-behind so the engine can skip ahead quickly."""
    return start > 0 and text[start - 1].isascii() and text[start - 1].isalnum()


def find_privacy(text: str) -> Iterator[tuple[str, str, int, int]]:
    """(rule, severity, start, end) for every piece of personal data found."""
    id_spans: list[tuple[int, int]] = []
    for m in ID_NUMBER.finditer(text):
        if not _glued(text, m.start()) and id_number_valid(m.group(0)):
            id_spans.append(m.span())
            yield "privacy.id-number", "block", m.start(), m.end()
    for m in CARD.finditer(text):
        if _glued(text, m.start()) or any(s <= m.start() < e for s, e in id_spans):
            continue
        digits = re.sub(r"\D", "", m.group(0))
        if card_number_valid(digits) and not id_number_valid(digits):
            yield "privacy.bank-card", "block", m.start(), m.end()
    for m in MOBILE.finditer(text):
        start = m.start()
        prefix = _COUNTRY_CODE.search(text, max(0, start - 4), start)
        if prefix:
            start = prefix.start()
        if _glued(text, start):
            continue
        yield "privacy.mobile", "warn", start, m.end()
    for m in ADDRESS.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        severity = "block" if _HOME_CONTEXT.search(before) else "warn"
        yield "privacy.home-address", severity, max(0, m.start() - 20), m.end()
