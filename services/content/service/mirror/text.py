"""Reading what old government pages write: their bytes, their dates and their labelled fields.

Old sites were made by many CMSs over twenty years: pages in UTF-8 beside pages in GB2312 that
really hold GBK characters, dates as `2019-03-01`, `2019年3月1日`, `二〇一九年三月一日` or
`发布时间：2019-03-01 09:00`, and metadata as `索 引 号：…` in a table cell or a line of text.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime

from charset_normalizer import from_bytes

from services.kernel.chinese import halfwidth_digits
from services.kernel.clock import SHANGHAI

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
# GB2312 and GBK pages routinely contain characters only their superset has; GB18030 decodes
# every byte sequence the other two do, identically.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "euc-cn", "x-gbk", "hz-gb-2312"}


def decode_page(raw: bytes) -> tuple[str, str]:
    """The page's text and the encoding it was read with: BOM, then meta charset, then the bytes."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8"
    declared = _META_CHARSET.search(raw[:4096])
    candidates: list[str] = []
    if declared:
        name = declared.group(1).decode("ascii").lower()
        candidates.append("gb18030" if name in _GB_FAMILY else name)
    candidates += ["utf-8", "gb18030"]
    for name in candidates:
        try:
            return raw.decode(name), name
        except (LookupError, UnicodeDecodeError):
            continue
    # Neither the declaration nor the two usual encodings fit: let the bytes decide.
    best = from_bytes(raw).best()
    if best is not None:
        return str(best), best.encoding
    return raw.decode("gb18030", errors="replace"), "gb18030"


_CN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER = "[〇○零一二三四五六七八九十]"
_NUMERIC_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_CHINESE_DATE = re.compile(
    rf"(?P<y>{_CN_NUMBER}{{4}})\s*年\s*(?P<m>{_CN_NUMBER}{{1,2}})\s*月\s*(?P<d>{_CN_NUMBER}{{1,3}})\s*日"
)
# TRS-style detail paths carry the publication day: /zcwj/201903/t20190301_1001.html
_URL_DATE = re.compile(r"(?:^|/)t?(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)_")


def _cn_int(text: str) -> int:
    if all(ch in _CN_DIGITS for ch in text):
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    # 十, 十一, 二十, 二十一, 三十一
    tens, _, units = text.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _instant(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime | None:
    try:
        return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)
    except ValueError:
        return None


def parse_date(text: str) -> datetime | None:
    """The first plausible date (and time) in `text`, as Beijing time; None when there is none."""
    text = halfwidth_digits(text)
    for m in _NUMERIC_DATE.finditer(text):
        found = _instant(
            int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0)
        )
        if found is not None:
            return found
    for m in _CHINESE_DATE.finditer(text):
        try:
            found = _instant(_cn_int(m["y"]), _cn_int(m["m"]), _cn_int(m["d"]))
        except KeyError:
            continue
        if found is not None:
            return found
    return None


def date_from_path(path: str) -> datetime | None:
    m = _URL_DATE.search(path)
    return _instant(int(m["y"]), int(m["m"]), int(m["d"])) if m else None


def iso(value: datetime) -> str:
    return value.astimezone(SHANGHAI).isoformat()


_COLONS = "[:：]"
# A value ends at a line break or at a run of two spaces (fields set side by side in one line).
_VALUE_END = re.compile(r"[ \t\xa0]{2,}|\u3000|\n")


def label_value(text: str, label: str) -> str | None:
    """The value written after `label` in `text`: `文号：深府〔2019〕3号`, `索 引 号: 0001/2019-01`.

    The label may be spaced out (`索　引　号`), the value may sit on the next line (a table cell
    after the label cell) — `text` is the region's text nodes joined by newlines.
    """
    spaced = r"[\s\u3000]*".join(re.escape(ch) for ch in label if not ch.isspace())
    # The colon may be missing when label and value sit in two table cells.
    for m in re.finditer(rf"{spaced}[ \t\u3000\xa0]*(?:{_COLONS}|(?=\n))", text):
        rest = text[m.end() :].lstrip(" \t\r\n\u3000\xa0")
        value = _VALUE_END.split(rest, maxsplit=1)[0].strip()
        if value and not re.match(_COLONS, value):
            return value
    return None
