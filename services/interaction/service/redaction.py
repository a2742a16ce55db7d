"""Personal data out of every public rendering (政府网站发展指引：不得泄露个人信息).

Every match is replaced, not just the first (FixMyStreet's phone redaction stopped at one),
and each replacement is recorded by field, kind and position so an editor can see what the
public text hides without the public text carrying it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from services.kernel.clock import today

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9A-Za-z])")
# Area code 0xx / 0xxx, a seven- or eight-digit number, optional extension.
LANDLINE = re.compile(
    r"(?<![0-9A-Za-z])(?:\(0[1-9][0-9]{1,2}\)|（0[1-9][0-9]{1,2}）|0[1-9][0-9]{1,2}[- ]?)"
    r"[2-9][0-9]{6,7}(?:[-转][0-9]{1,5})?(?![0-9A-Za-z])"
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·・ ]?[A-HJ-NP-Z0-9]{5,6}(?![A-Za-z0-9])"
)
# A street number with a flat, or whatever follows a word that announces a home address.
ADDRESS = re.compile(
    r"(?:[\u4e00-\u9fff]{1,12}(?:路|街|巷|道|弄|胡同|村|小区|花园|家园|公寓))\s*"
    r"[0-9０-９一二三四五六七八九十百零]+号[^，。；;,、\s]{0,16}?(?:[0-9０-９]+\s*室)?"
)
_ADDRESS_CONTEXT = re.compile(
    r"(?:家庭住址|住址|家住|现住|居住地|户籍地|住所地)[:：]?\s*([^，。；;,\n]{2,40})"
)

MASK = "＊＊＊"


def id_number_valid(value: str, on: date | None = None) -> bool:
    """GB 11643: the check digit over the first 17 digits and a real birth date."""
    value = value.upper()
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= (on or today())


@dataclass(frozen=True)
class Redaction:
    field: str
    kind: str
    start: int
    end: int


def _spans(text: str, names: list[str]) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for m in ID_NUMBER.finditer(text):
        if id_number_valid(m.group(0)):
            found.append((m.start(), m.end(), "id_number"))
    found += [(m.start(), m.end(), "mobile") for m in MOBILE.finditer(text)]
    found += [(m.start(), m.end(), "landline") for m in LANDLINE.finditer(text)]
    found += [(m.start(), m.end(), "email") for m in EMAIL.finditer(text)]
    found += [(m.start(), m.end(), "plate") for m in PLATE.finditer(text)]
    found += [(m.start(), m.end(), "address") for m in ADDRESS.finditer(text)]
    found += [(m.start(1), m.end(1), "address") for m in _ADDRESS_CONTEXT.finditer(text)]
    for name in names:
        found += [(m.start(), m.end(), "name") for m in re.finditer(re.escape(name), text)]
    # Overlaps (an ID number also looks like a phone run): keep the earliest, longest span.
    found.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in found:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
            continue
        merged.append((start, end, kind))
    return merged


def redact(field: str, text: str, names: list[str]) -> tuple[str, list[Redaction]]:
    """The text with every piece of personal data masked, and where each was (in the original)."""
    spans = _spans(text, names)
    out: list[str] = []
    pos = 0
    for start, end, _ in spans:
        out.append(text[pos:start])
        out.append(MASK)
        pos = end
    out.append(text[pos:])
    return "".join(out), [Redaction(field, kind, start, end) for start, end, kind in spans]
