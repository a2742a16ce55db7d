"""The labelled review set: handmade notices, and corpus texts with spam injected by seeded code.

Injections follow what attackers actually put into government pages: dark links hidden by CSS,
promotional gambling copy with contact hooks, casino brands inside official sentences, porn
and illegal adverts with links, and leaked personal data (ID and bank card numbers).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from html import escape
from pathlib import Path

from gateway.demo.corpus import read_corpus

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "labelled.json"

HIDES = [
    'style="display:none"',
    'style="visibility: hidden"',
    'style="font-size:0px"',
    'style="position:absolute;left:-9999px;top:-9999px"',
    'style="height:0;width:0;overflow:hidden"',
    'style="text-indent:-5000px"',
    "hidden",
]
DOMAINS = ["xpj{n}.com", "amxpj{n}.net", "bet{n}.vip", "hg{n}.cc", "js{n}.top", "ag{n}-casino.com"]
BRANDS = [
    "澳门新葡京",
    "澳门威尼斯人",
    "皇冠体育",
    "bet365",
    "太阳城娱乐",
    "金沙娱乐",
    "开云体育",
    "澳门银河",
]
TERMS = ["百家乐", "网上赌场", "体育投注", "六合彩", "时时彩", "真人荷官", "老虎机"]
PROMOS = ["注册送{n}元彩金", "首存{n}送{n}", "日赚{n}元", "在线娱乐，稳赚不赔", "免费试玩，一秒到账"]
PORN = ["裸聊", "约炮", "成人视频", "同城交友 上门服务"]
ADS = ["代开发票", "办证刻章", "信用卡套现", "仿真枪出售"]


def make_id_number(rng: random.Random) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    region = rng.choice(["210602", "110105", "310104", "440305"])
    born = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = region + born + f"{rng.randint(0, 999):03d}"
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def make_card_number(rng: random.Random) -> str:
    body = "62" + "".join(str(rng.randint(0, 9)) for _ in range(15))
    total = 0
    for i, ch in enumerate(reversed(body)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            n = n - 9 if n > 9 else n
        total += n
    return body + str((10 - total % 10) % 10)


def injection(rng: random.Random) -> tuple[str, str]:
    """(kind, html snippet) of one seeded attack."""
    n = rng.randint(10, 999)
    domain = rng.choice(DOMAINS).format(n=n)
    kind = rng.choice(["hidden-link", "promo", "brand", "porn", "ad", "id-number", "bank-card"])
    if kind == "hidden-link":
        text = rng.choice(BRANDS + TERMS)
        return kind, f'<div {rng.choice(HIDES)}><a href="http://{domain}/">{text}</a></div>'
    if kind == "promo":
        promo = rng.choice(PROMOS).format(n=n)
        contact = rng.choice([f"加微信 vx{n}abc", f"QQ：{rng.randint(10000, 99999999)}", f"网址 {domain}"])
        return kind, f"<p>{rng.choice(TERMS)}{promo}，{contact}</p>"
    if kind == "brand":
        return kind, f"<p>{rng.choice(BRANDS)}官方网站欢迎您</p>"
    if kind == "porn":
        return kind, f'<p>{rng.choice(PORN)}，点击进入 <a href="http://{domain}">{domain}</a></p>'
    if kind == "ad":
        return kind, f"<p>{rng.choice(ADS)}，联系QQ {rng.randint(100000, 999999999)}</p>"
    if kind == "id-number":
        return kind, f"<p>申请人：张某，身份证号：{make_id_number(rng)}</p>"
    return kind, f"<p>收款银行卡号 {make_card_number(rng)}</p>"


def to_html(text: str) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in text.split("\n") if line.strip())


def inject(html: str, rng: random.Random) -> tuple[str, str]:
    kind, snippet = injection(rng)
    cut = [i for i in range(len(html)) if html.startswith("</p>", i)]
    at = rng.choice(cut) + 4 if cut else len(html)
    return kind, html[:at] + snippet + html[at:]


@dataclass
class Sample:
    html: str
    spam: bool
    source: str


def fixture_samples() -> list[Sample]:
    data = json.loads(FIXTURES.read_text(encoding="utf-8"))
    return [Sample(html=item["html"], spam=item["label"] == "spam", source=item["name"]) for item in data]


def corpus_samples(path: Path, count: int, seed: int = 20191) -> list[Sample]:
    """`count` clean corpus texts and the same texts with one seeded injection each."""
    rng = random.Random(seed)
    docs = list(read_corpus(str(path)))
    picked = rng.sample(docs, count)
    out = []
    for doc in picked:
        html = to_html(doc["body"][:20000])
        out.append(Sample(html=html, spam=False, source=doc["id"]))
        kind, spammed = inject(html, rng)
        out.append(Sample(html=spammed, spam=True, source=f"{doc['id']}+{kind}"))
    return out


def precision_recall(samples: list[Sample], blocked: list[bool]) -> tuple[float, float, list[str]]:
    tp = sum(1 for s, b in zip(samples, blocked, strict=True) if s.spam and b)
    fp = [s.source for s, b in zip(samples, blocked, strict=True) if not s.spam and b]
    fn = sum(1 for s, b in zip(samples, blocked, strict=True) if s.spam and not b)
    precision = tp / (tp + len(fp)) if tp + len(fp) else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, fp
