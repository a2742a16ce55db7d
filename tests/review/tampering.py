"""Seeded tampering of clean texts the way SEO gangs deface government pages.

The brands come from HELD_OUT, a list kept here and nowhere else: no detector, lexicon or data
file under services/ may contain one of them (test_held_out_names_are_not_shipped holds that),
so a detector can only catch them by the shape of the attack, never by knowing the name.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape

# Invented or real-world gambling brands absent from the shipped lexicon; a few carry no
# gambling-shaped ending at all (新濠天地, 金碧辉煌, 大富豪, 博九).
HELD_OUT = (
    "鸿运国际",
    "金鼎娱乐",
    "天恒体育",
    "盛世彩票",
    "聚鑫棋牌",
    "恒达娱乐城",
    "鼎盛国际",
    "万利电竞",
    "富贵真人",
    "鑫宝网投",
    "宏图平台",
    "瑞丰娱乐",
    "百胜体育",
    "新濠天地",
    "星河彩票",
    "德晋国际",
    "佳禾娱乐",
    "荣耀棋牌",
    "金碧辉煌",
    "乐盈国际",
    "皇朝娱乐",
    "博雅棋牌",
    "赢家体育",
    "大富豪",
    "利来国际",
    "尊龙娱乐",
    "凯旋彩票",
    "金盛平台",
    "永胜娱乐",
    "博九",
)
STYLES = ("replace", "prefix", "hidden-link", "title-stuffing", "keyword-stuffing")
HIDES = (
    'style="display:none"',
    'style="visibility:hidden"',
    'style="font-size:0"',
    'style="position:absolute;left:-9999px"',
    'style="height:0;width:0;overflow:hidden"',
    "hidden",
)
TAILS = ("官网", "注册", "app下载", "平台", "登录入口", "开户", "网址", "手机版")
_TITLE_PLACE = re.compile(r"^([\u4e00-\u9fff]{2,3}?)([市省])")


@dataclass(frozen=True)
class Page:
    title: str
    body: str  # plain text, paragraphs split by newlines
    source: str

    def html(self, extra: str = "", at: int | None = None) -> str:
        paras = [f"<p>{escape(line)}</p>" for line in self.body.split("\n") if line.strip()]
        if extra:
            paras.insert(len(paras) // 2 if at is None else at, extra)
        return f"<h1>{escape(self.title)}</h1>" + "".join(paras)


@dataclass(frozen=True)
class Sample:
    style: str
    brand: str
    source: str
    html: str


def place_of(title: str) -> tuple[str, str] | None:
    """(short, full) place the title starts with: 北京市公园条例 → (北京, 北京市)."""
    m = _TITLE_PLACE.match(title)
    return (m.group(1), m.group(0)) if m else None


def domain(rng: random.Random) -> str:
    letters = "".join(rng.choice("abcdefghjkmnpqrstwxyz") for _ in range(rng.randint(2, 4)))
    digits = str(rng.randint(10, 99999))
    host = rng.choice([letters + digits, digits + letters, f"{letters}-{digits}"])
    return f"{rng.choice(['', 'www.', 'm.'])}{host}.{rng.choice(['com', 'net', 'vip', 'cc', 'top', 'xyz'])}"


def tamper(page: Page, style: str, brand: str, rng: random.Random) -> str:
    if style == "replace":
        place = place_of(page.title)
        assert place is not None, "replace needs a title that starts with a place"
        old = place[rng.randint(0, 1)]
        return Page(page.title.replace(old, brand), page.body.replace(old, brand), page.source).html()
    if style == "prefix":
        form = rng.choice(["{b}{t}", "【{b}】{t}", "{b}——{t}", "{b}：{t}"])
        return Page(form.format(b=brand, t=page.title), page.body, page.source).html()
    if style == "hidden-link":
        link = f'<a href="http://{domain(rng)}/">{escape(brand)}</a>'
        return page.html(f"<div {rng.choice(HIDES)}>{link}</div>")
    tails = rng.sample(TAILS, 4)
    if style == "title-stuffing":
        form = rng.choice(["{b}_{b}{x}_{t}", "{t}-{b}{x}|{b}{y}", "{b}{x}|{b}{y}|{t}"])
        return Page(form.format(b=brand, x=tails[0], y=tails[1], t=page.title), page.body, page.source).html()
    sep = rng.choice([",", "，", " ", "、", "|"])
    words = sep.join([brand, *(brand + t for t in tails)])
    return page.html(f"<p>{escape(words)}</p>", at=rng.randint(0, 3))


def samples(pages: list[Page], per_style: int, seed: int = 20261202) -> Iterator[Sample]:
    rng = random.Random(seed)
    placed = [p for p in pages if place_of(p.title)]
    for style in STYLES:
        pool = placed if style == "replace" else pages
        for page in rng.sample(pool, min(per_style, len(pool))):
            brand = rng.choice(HELD_OUT)
            yield Sample(style, brand, page.source, tamper(page, style, brand, rng))
