"""Identifiers a citizen types to find one text: 文号, decree and announcement numbers, 索引号.

They are matched as whole keys, never as words, and the same function makes the key from a
document (its metadata, abstract or body) and from a query, so `国办发[2017]47号` meets
`国办发〔2017〕47号` and `国务院令第379号` meets `中华人民共和国国务院令第379号公布`.

A decree number names its issuer in front (`…国务院令第379号`); in running text the issuer's
start is unknown (`根据国务院令第379号`), so a document yields a key per issuer suffix and a
query one key, its issuer's last `MAX_ISSUER` characters: whichever prefix the query types,
the document holds that key.
"""

from __future__ import annotations

import re

from services.kernel.chinese import (
    DOC_NO_PATTERN,
    is_doc_no,
    nfc,
    normalize_doc_no,
)

MAX_ISSUER = 12
_COUNTRY = "中华人民共和国"
_NUMERAL = "零〇一二三四五六七八九十百千"
_NUMBER = rf"[0-9]{{1,6}}|[{_NUMERAL}]{{1,8}}"
_ISSUER_CHARS = r"[\u4e00-\u9fff、]"
# 国务院令第379号, 主席令第十二号, …常务委员会公告第37号
DECREE_IN_TEXT = re.compile(rf"({_ISSUER_CHARS}{{0,40}}?)(令|公告)第?({_NUMBER})号")
# 食品药品监管局、海关总署第4号令
DECREE_SUFFIXED = re.compile(rf"({_ISSUER_CHARS}{{0,40}}?)第({_NUMBER})号(令|公告)")
# Scanning a long body, the regexes above would try every position; these anchor on the rare
# part (令第N号, 〔2017〕47号) and look back for the issuer or prefix.
_DECREE_CORE = re.compile(rf"(令|公告)第?({_NUMBER})号|第({_NUMBER})号(令|公告)")
_ISSUER_TAIL = re.compile(rf"{_ISSUER_CHARS}{{0,40}}$")
_DOC_NO_CORE = re.compile(r"[\[［(（【〔{〖﹝]\s*\d{4}\s*[\]］)）】〕}〗﹞]\s*\d{1,6}\s*号")
_PREFIX_TAIL = re.compile(r"[\u4e00-\u9fff]{1,12}\s*$")
_WHOLE = re.compile(rf"^(?:{DECREE_IN_TEXT.pattern}|{DECREE_SUFFIXED.pattern})$")
_DIGIT = {ch: n for n, ch in enumerate("零一二三四五六七八九")} | {"〇": 0}
_UNIT = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> int:
    """十二 → 12, 一百零五 → 105, 三七九 → 379 (digit by digit)."""
    if not any(ch in _UNIT for ch in text):
        return int("".join(str(_DIGIT[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _UNIT:
            total += (digit or 1) * _UNIT[ch]
            digit = 0
        else:
            digit = _DIGIT[ch]
    return total + digit


def _serial(raw: str) -> int:
    return int(raw) if raw.isdigit() else chinese_number(raw)


# kernel.chinese.halfwidth_digits as one translate table: it runs over whole bodies here
_HALFWIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF5B))}


def _clean(text: str) -> str:
    return nfc(text).translate(_HALFWIDTH)


def _doc_nos(text: str) -> list[tuple[str, str]]:
    """(prefix, 〔year〕serial号) of every 文号 in the text."""
    out = []
    for core in _DOC_NO_CORE.finditer(text):
        head = _PREFIX_TAIL.search(text, max(0, core.start() - 16), core.start())
        if head is None:
            continue
        normal = normalize_doc_no(head.group() + core.group())
        parts = DOC_NO_PATTERN.match(normal)
        if parts:
            out.append((parts["prefix"], normal[len(parts["prefix"]) :]))
    return out


def _issuer(raw: str) -> str:
    return raw.replace(_COUNTRY, "").strip("、")


def _decrees(text: str) -> list[tuple[str, str, int]]:
    found = []
    for m in _DECREE_CORE.finditer(text):
        tail = _ISSUER_TAIL.search(text, max(0, m.start() - 40), m.start())
        issuer = _issuer(tail.group() if tail else "")
        if m[1]:
            found.append((issuer, m[1], _serial(m[2])))
        else:
            found.append((issuer, m[4], _serial(m[3])))
    return found


def _key(issuer: str, kind: str, serial: int) -> str:
    return f"{issuer}{kind}第{serial}号"


def identifier_keys(text: str) -> set[str]:
    """Every key under which a document mentioning `text` is found."""
    text = _clean(text)
    keys: set[str] = set()
    for prefix, rest in _doc_nos(text):
        for size in range(1, min(len(prefix), MAX_ISSUER) + 1):
            keys.add(prefix[-size:] + rest)
    for issuer, kind, serial in _decrees(text):
        keys.add(_key("", kind, serial))
        for size in range(1, min(len(issuer), MAX_ISSUER) + 1):
            keys.add(_key(issuer[-size:], kind, serial))
    return keys


def query_identifier(raw: str) -> str | None:
    """The one key of a query that is nothing but an identifier (文号 or decree number)."""
    text = _clean(raw).strip()
    if is_doc_no(text):
        prefix, rest = _doc_nos(normalize_doc_no(text))[0]
        return prefix[-MAX_ISSUER:] + rest
    if not _WHOLE.match(text):
        return None
    issuer, kind, serial = _decrees(text)[0]
    return _key(issuer[-MAX_ISSUER:], kind, serial)


def mentioned_identifiers(raw: str) -> list[str]:
    """Identifiers inside a longer query, each as its query key."""
    text = _clean(raw)
    keys = list(dict.fromkeys(prefix[-MAX_ISSUER:] + rest for prefix, rest in _doc_nos(text)))
    for issuer, kind, serial in _decrees(text):
        key = _key(issuer[-MAX_ISSUER:], kind, serial)
        if key not in keys:
            keys.append(key)
    return keys[:5]
