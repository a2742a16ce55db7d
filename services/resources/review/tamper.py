"""Tampering that no lexicon lists: a brand put where the page's place or issuer stood.

SEO gangs (暗链, 寄生虫 pages, 黑帽 SEO) keep a government page and swap its city for their
brand, or prefix and stuff the brand into titles. A brand list is always behind, so these
detectors look at structure instead:

- issuer frame: 「X人民政府」「X人民代表大会」「X政办发」 ask for a place; X must be a division of
  the gazetteer, the site's own organisation, or one of the generic forms laws use (各级, 本级,
  县级以上地方 …).
- place-like token: a token the text puts before 市/省 again and again, that is no division.
- brand shape: 「X娱乐」「X国际」「X官网」 … where X occurs nowhere else in the text and the whole
  stands where only a name or nothing belongs (a line start, before punctuation, before 市).
- stuffing: one brand-shaped token several times within a short span.
- version change: the issuer and place names of the previous version gone, new unknown ones in.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from services.resources.review.gazetteer import Gazetteer

# Frames whose left side is an issuing body's place.
_ISSUER_FRAME = re.compile(r"人民政府|人民代表大会|人大常委会|政办发|政发〔|政办函|政办〔")
_ABBREVIATED = ("政办发", "政发〔", "政办函", "政办〔")  # 丹政办发: one-character abbreviation
_ISSUING_OFFICE = ("政府", "办公室", "办公厅")  # 市人民政府京政发〔1985〕
_NATIONAL_HEADS = ("中华人民共和国", "国务院", "最高人民", "全国人民代表大会", "中共中央")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{1,14}$")
_ADMIN = "市省县区州乡镇旗盟"
_PLACE_FOLLOW = re.compile(r"[市省县]|人民政府|政府|人民代表大会|人大|政办|政发")
# 城市, 都市, 超市 …: the character before 市 makes a word, not a place.
_COMPOUND_BEFORE_CITY = (*"城都超上夜门股菜集花早黑闹互开", "直辖", "设区的")
_TITLE_PLACE = re.compile(r"([\u4e00-\u9fff]{2,6}?)([市省])(?!场|值|民)")
_ALL_CJK = re.compile(r"[\u4e00-\u9fff]+")
_TITLE_SEPARATOR = re.compile(r"[【】_|｜:：\-]|——|--")
_TITLE_KIND = re.compile(r"条例|规定|办法|决定|通知|细则|意见|方案|规则|解释|批复|公告|通告|决议|章程|法$")
_TITLE_SHAPE = re.compile(
    r"([\u4e00-\u9fff]{2,4}?)(娱乐城|娱乐|国际|体育|彩票|棋牌|电竞|真人|网投|平台|官网|集团)"
)
_SEPARATORS = re.compile(r"[，,、|｜_ /]+")
# Four separators, each within nine characters of the last, on one line.
_DENSE = re.compile(r"[，,、|｜_ /](?:[^，,、|｜_ /\n]{0,9}+[，,、|｜_ /]){3}")  # possessive: no backtracking
_NUMERAL = re.compile(r"[0-9一二三四五六七八九十百千零]+")
_FUNCTION_CHARS = re.compile(r"[的了是在或和与及应当为其之等]")
# Endings no place or office takes: a place with one of them is a brand (澳门娱乐, 丹东官网).
_BRANDISH = re.compile(
    r"娱乐|棋牌|网投|官网|真人|电竞|彩票|注册|下载|登录|开户|网址|入口|手机版|[aA][pP][pP]"
)


_OFFICE_SUFFIX = re.compile(r"(?:人民政府|人民代表大会常务委员会|人民代表大会|办公室|办公厅|政府)+$")


def own_stems(names: Sequence[str]) -> tuple[str, ...]:
    """The site's organisation and its place part: 丹东市人民政府 → 丹东市人民政府, 丹东市."""
    out = [n.strip() for n in names if n.strip()]
    out += [stem for stem in (_OFFICE_SUFFIX.sub("", n) for n in out) if len(stem) >= 2]
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Hit:
    rule: str
    detector: str
    start: int
    end: int
    token: str
    reason: str


class TamperDetector:
    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gaz = gazetteer

    def _generic(self, run: str, own: Sequence[str]) -> bool:
        if not run or run.endswith(self.gaz.generic) or self.gaz.place_suffix(run):
            return True
        return any(name and run.endswith(name) for name in own)

    def _issuer_ok(self, run: str, own: Sequence[str]) -> bool:
        if self._generic(run, own):
            return True
        if run[-1] in _ADMIN:
            rest = run[:-1]
            return self._generic(rest, own) or rest[-1] in _ADMIN
        return False

    def issuer_names(self, text: str, own: Sequence[str] = ()) -> Iterator[tuple[int, str, str, bool]]:
        """(offset, name, frame, known) for every issuer frame; name is the run before it."""
        for m in _ISSUER_FRAME.finditer(text):
            p = m.start()
            r = _CJK_RUN.search(text, max(0, p - 14), p)
            run = r.group(0) if r else ""
            frame = m.group(0)
            if frame in _ABBREVIATED and (len(run) <= 1 or run[:-1].endswith(_ISSUING_OFFICE)):
                yield p - len(run), run, frame, True
                continue
            known = self._issuer_ok(run, own)
            yield p - len(run), run, frame, known

    def scan(
        self, text: str, own: Sequence[str] = (), previous: str | None = None, titled: bool = False
    ) -> list[tuple[Hit, bool]]:
        """(hit, blocks) pairs; a hit that blocks is one no clean official text produces.
        titled: the first line is the page title (not merely the body's first paragraph)."""
        own = own_stems(own)
        out: list[tuple[Hit, bool]] = []
        names = list(self.issuer_names(text, own))
        for offset, run, frame, known in names:
            if known:
                continue
            token = self._token(run)
            placed = self._place_like(text, token)
            why = f"「{token}」处在「{token}{frame}」这一发文机关的位置，但不是行政区划，也不是本站机构"
            if placed:
                why += f"；「{placed}」在全文中几乎只出现在地名的位置"
            end = offset + len(run)
            out.append(
                (
                    Hit("tamper.unknown-issuer", "issuer-frame", end - len(token), end, token, why),
                    bool(placed),
                )
            )
        title_end = text.find("\n", 1 if text.startswith("\n") else 0)
        head = text[: title_end if title_end > 0 else len(text)]
        lead = len(head) - len(head.lstrip())
        out += [(hit, True) for hit in self._title(text, head.strip(), lead, own, titled)]
        if titled:
            for hit in self._local_without_place(text, head.strip(), lead, own):
                # 「中关村…条例」 names its area again in the text; a swapped-in brand stands alone.
                out.append((hit, text.find(hit.token[:2], lead + len(head.strip())) < 0))
        out += [(hit, True) for hit in self._stuffing(text, own)]
        if previous is not None:
            out += [(hit, True) for hit in self._changed(text, previous, names, own)]
        return out

    def _token(self, run: str) -> str:
        rest = run[:-1] if len(run) > 1 and run[-1] in _ADMIN else run
        return rest[-6:]

    def _place_like(self, text: str, token: str) -> str | None:
        """A tail of the token that recurs and nearly always stands before 市/省/人民政府 …"""
        for k in (2, 3, 4):
            if len(token) < k:
                break
            tail = token[-k:]
            seen = placed = 0
            at = text.find(tail)
            while at >= 0:
                seen += 1
                placed += bool(_PLACE_FOLLOW.match(text, at + k))
                at = text.find(tail, at + 1)
            if seen >= 2 and placed >= 0.8 * seen:
                return tail
        return None

    def _known_name(self, name: str, own: Sequence[str]) -> bool:
        gaz = self.gaz
        if any(n and (n in name or name in n) for n in own):
            return True
        if _BRANDISH.search(name):
            return False
        if self._generic(name, own) or name.endswith(_COMPOUND_BEFORE_CITY):
            return True
        return any(gaz.is_place(name[:k]) for k in range(2, min(len(name), gaz.longest) + 1)) or any(
            n and n in name for n in own
        )

    # -- the title line -------------------------------------------------------------------

    def _title(self, text: str, title: str, at: int, own: Sequence[str], titled: bool) -> list[Hit]:
        """The title line; of an untitled text only a first line opening with 「X市」 is read
        this way (a notice's issuer line), since a first paragraph is prose."""
        if not title:
            return []
        hits: list[Hit] = []
        m = _TITLE_PLACE.match(title)
        if m and not self._known_name(m.group(1), own) and not title[m.end() :].startswith(tuple(own)):
            name = m.group(1)
            hits.append(
                Hit(
                    "tamper.unknown-place-title",
                    "issuer-frame",
                    at,
                    at + len(name),
                    name,
                    f"标题以「{name}{m.group(2)}」开头，「{name}」不是行政区划，也不是本站机构",
                )
            )
        if not titled:
            return hits
        prefix = self._title_prefix(title, own)
        if prefix:
            name, head = prefix
            hits.append(
                Hit(
                    "tamper.title-prefix",
                    "issuer-frame",
                    at,
                    at + len(name),
                    name,
                    f"标题在机关或地名「{head}」之前多出「{name}」",
                )
            )
        # News titles are cut by one separator all the time (「工作动态：本周工作情况」「通知公告：…」):
        # a single cut is held to this only when what follows it is an official document's title
        # (it names its kind: 通知, 办法 …); stuffing cuts a title several times.
        parts = [p.strip() for p in _TITLE_SEPARATOR.split(title) if p.strip()]
        held = len(parts) >= 3 or (len(parts) == 2 and _TITLE_KIND.search(parts[-1]) is not None)
        for part in _TITLE_SEPARATOR.split(title) if held else ():
            part = part.strip()
            if part and part != title and len(part) <= 12 and not self._known_name(part, own):
                if _TITLE_KIND.search(part) is None:
                    hits.append(
                        Hit(
                            "tamper.title-prefix",
                            "stuffing",
                            at,
                            at + len(title),
                            part,
                            f"标题被分隔符切成几段，其中「{part}」既非地名机关，也非文种",
                        )
                    )
                    break
        m = _TITLE_SHAPE.match(title)
        # A subject in the title (学校体育工作条例) recurs in the text on its own; a brand's
        # name part never occurs without its ending.
        if m and not self._known_name(m.group(0), own) and text.count(m.group(1)) == text.count(m.group(0)):
            hits.append(
                Hit(
                    "tamper.brand-shape",
                    "brand-shape",
                    at,
                    at + len(m.group(0)),
                    m.group(0),
                    f"标题以「{m.group(0)}」开头，形如博彩品牌（名称＋{m.group(2)}），且名称在全文别处从未出现",
                )
            )
        return hits

    def _title_prefix(self, title: str, own: Sequence[str]) -> tuple[str, str] | None:
        """(X, head) when the title is X + 「中华人民共和国…」 or X + a division name."""
        full = self.gaz.full
        for i in range(2, min(len(title), 7)):
            rest = title[i:]
            head = next((h for h in _NATIONAL_HEADS if rest.startswith(h)), None)
            if head is None:
                head = next((rest[:k] for k in range(2, 10) if rest[:k] in full), None)
            if head is None:
                continue
            if rest.startswith(tuple(own)):  # 示范市 + 东城区人民政府: the own organisation's parent
                return None
            name = title[:i]
            if (
                not _ALL_CJK.fullmatch(name)
                or name.endswith(("诉", "年", *_NATIONAL_HEADS))
                or name.startswith(("为", "关于", "对"))
                or _FUNCTION_CHARS.search(name)
                or self._known_name(name, own)
            ):
                return None
            return name, head
        return None

    def _local_without_place(self, text: str, title: str, at: int, own: Sequence[str]) -> list[Hit]:
        """A local text (「本市」「本省」 throughout) must name its place in the title."""
        if (
            not title
            or text.count("本市") + text.count("本省") < 2
            or title.startswith(("关于", *_NATIONAL_HEADS))
        ):
            return []
        if self.gaz.place_in(title) or any(n and n in title for n in own):
            return []
        return [
            Hit(
                "tamper.title-without-place",
                "issuer-frame",
                at,
                at + len(title),
                title[:12],
                "正文以「本市」「本省」自称，标题却不含任何行政区划名称：地名可能已被替换",
            )
        ]

    # -- stuffing ---------------------------------------------------------------------------

    def _stuffing(self, text: str, own: Sequence[str]) -> list[Hit]:
        """A short line of short pieces: one name alone and again with three or more endings
        (「X，X官网，X注册，X下载」). Enumerations in laws repeat words, not a name with tails."""
        hits: list[Hit] = []
        dense = _DENSE.search(text)
        while dense is not None:
            start = text.rfind("\n", 0, dense.start()) + 1
            end = text.find("\n", dense.end())
            end = len(text) if end < 0 else end
            dense = _DENSE.search(text, end)  # one look per line
            line = text[start:end]
            pieces = _SEPARATORS.split(line)
            # Short pieces only: a sentence has far fewer separators per character.
            if len(line) > 200 or len(line) > 9 * len(pieces):
                continue
            parts = [p for p in (q.strip() for q in pieces) if p]
            heads = Counter(p[:2] for p in parts)
            if heads.most_common(1)[0][1] * 10 < 7 * len(parts):
                continue
            bases = {p for p in parts if 2 <= len(p) <= 8}
            for base in bases:
                tails = [
                    p[len(base) :]
                    for p in parts
                    if p != base and p.startswith(base) and len(p) - len(base) <= 5
                ]
                if len(tails) < 3 or (len(tails) + 1) * 10 < 7 * len(parts):
                    continue
                if any(_FUNCTION_CHARS.search(t) or _NUMERAL.fullmatch(t) for t in tails):
                    continue
                if self._known_name(base, own):
                    continue
                hits.append(
                    Hit(
                        "tamper.keyword-stuffing",
                        "stuffing",
                        start,
                        start + len(line),
                        base,
                        f"一行短词里「{base}」单独出现，又带着 {len(tails)} 种后缀出现（{'、'.join(tails[:3])}…）",
                    )
                )
                break
        return hits

    # -- version change -----------------------------------------------------------------

    def _changed(
        self, text: str, previous: str, names: list[tuple[int, str, str, bool]], own: Sequence[str]
    ) -> list[Hit]:
        before = {self._token(run) for _, run, _, _ in self.issuer_names(previous, own) if run}
        hits = []
        reported: set[str] = set()
        for offset, run, frame, _ in names:
            token = self._token(run)
            if not before or not token or token in previous or token in reported:
                continue
            reported.add(token)
            end = offset + len(run)
            hits.append(
                Hit(
                    "tamper.issuer-changed",
                    "version-diff",
                    end - len(token),
                    end,
                    token,
                    f"上一版没有「{token}{frame}」；上一版的机关名称为 {'、'.join(sorted(before)[:3])}",
                )
            )
        return hits
