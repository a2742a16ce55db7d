"""Writes a synthetic old government site, as `wget --mirror` would leave it, and says what a
correct conversion of it must yield.

示范市人民政府 at www.shifan.gov.cn, three list columns with TRS-style pagination:
- 政策文件 zcwj: `zcwj/YYYYMM/tYYYYMMDD_N.html`, an info table (索引号, 发布机构, 文号 in five bracket
  styles, dates in five forms), attachments in the body and in an 附件 box;
- 政策解读 zcjd: `art/YYYY/M/art_2_N.html` (outside the column's folder: known only from its list,
  which also carries the dates the pages omit), linking back to their policies;
- 通知公告 tzgg: a GB2312-declared section whose bytes hold GBK-only characters.
Every page has a navigation bar, a footer and scripts that must not reach a body; a few pages
are broken in the ways old sites are.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

BASE_URL = "http://www.shifan.gov.cn"
HOST = "www.shifan.gov.cn"
CHROME = ("网站导航条", "版权所有：示范市人民政府", "CHROME_SCRIPT", "CHROME_STYLE")
PER_LIST_PAGE = 10
# Every 解读 names or is named by policy i (the importer refuses a 解读 without its policy).
INTERPRETED = 20
GENRES = {"zcwj": "zhengce", "zcjd": "jiedu", "tzgg": "tongzhi"}

MAPPING_TOML = """\
base_url = "http://www.shifan.gov.cn"
exclude = ["search/**"]

[detail]
title = { selector = ["div.article h1"] }
info = ["table.xxgk", "div.info"]
body = ["div.TRS_Editor", "#zoom"]
remove = [".share"]
attachments = ["div.fj"]

[[columns]]
column = "zcwj"
list = "zcwj/index.html"
detail = "zcwj/**/t*_*.html"
list_item = "ul.list li"
genre = "zhengce"

[[columns]]
column = "zcjd"
list = "zcjd/index.html"
list_item = "ul.list li"
genre = "jiedu"

[[columns]]
column = "tzgg"
list = "tzgg/index.html"
detail = "tzgg/**/t*_*.html"
list_item = "ul.list li"
genre = "tongzhi"
archived = true
archived_at = "2024-06-30T00:00:00+08:00"
[columns.detail_rules]
title = { selector = ["div.title"] }
"""

_BRACKETS = ("〔{y}〕{n}号", "[{y}]{n}号", "（{y}）{n}号", "【{y}】{n}号", "({y}){n}号")
_CN = "〇一二三四五六七八九"


def _cn_year(y: int) -> str:
    return "".join(_CN[int(c)] for c in str(y))


def _cn_small(n: int) -> str:
    return (
        (("" if n < 20 else _CN[n // 10]) + "十" + ("" if n % 10 == 0 else _CN[n % 10]))
        if n >= 10
        else _CN[n]
    )


def _pdf(text: str) -> bytes:
    return f"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% {text}\ntrailer<</Root 1 0 R>>\n%%EOF\n".encode()


def _zip(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, text)
    return buf.getvalue()


@dataclass
class Expected:
    column: str
    title: str
    published_at: str
    doc_number: str | None = None
    issuer: str | None = None
    index_number: str | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (bundle path, name)
    relations: list[tuple[str, str]] = field(default_factory=list)  # (kind, source_key)
    written_at: str | None = None
    archived: bool = False
    body_has: list[str] = field(default_factory=list)


@dataclass
class Site:
    root: Path  # the folder handed to the converter (holds HOST/)
    items: dict[str, Expected] = field(default_factory=dict)  # by source_key
    skipped: dict[str, str] = field(default_factory=dict)  # path → reason
    notes: dict[str, set[str]] = field(default_factory=dict)  # path → note kinds
    list_pages: dict[str, int] = field(default_factory=dict)  # column → list pages


def _page(title: str, main: str, charset: str = "utf-8") -> str:
    return f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{title}_示范市人民政府</title><style>.CHROME_STYLE{{}}</style>
<script>var CHROME_SCRIPT = 1;</script></head><body>
<div class="nav">网站导航条 <ul><li><a href="/index.html">首页</a></li><li><a href="/zcwj/index.html">政策文件</a></li>
<li><a href="/zcjd/index.html">政策解读</a></li><li><a href="/tzgg/index.html">通知公告</a></li></ul></div>
{main}
<div class="footer">版权所有：示范市人民政府 <a href="/about/contact.html">联系我们</a></div></body></html>"""


class _Writer:
    def __init__(self, root: Path) -> None:
        self.site = Site(root)
        self.top = root / HOST

    def put(self, path: str, data: bytes | str, encoding: str = "utf-8") -> None:
        target = self.top / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode(encoding) if isinstance(data, str) else data)

    def lists(self, column: str, name: str, entries: list[tuple[str, str, str]], enc: str = "utf-8") -> None:
        """Pages index.html, index_1.html… of PER_LIST_PAGE (href from the list folder, title, date)."""
        chunks = [entries[i : i + PER_LIST_PAGE] for i in range(0, len(entries), PER_LIST_PAGE)]
        for n, chunk in enumerate(chunks):
            lis = "".join(f'<li><a href="{h}">{t}</a><span class="date">{d}</span></li>' for h, t, d in chunk)
            pager = (
                f'<div class="page"><a href="index_{n + 1}.html">下一页</a></div>'
                if n + 1 < len(chunks)
                else ""
            )
            page = _page(name, f'<div class="main"><ul class="list">{lis}</ul>{pager}</div>', enc)
            self.put(
                f"{column}/index{'' if n == 0 else f'_{n}'}.html", page, "gb18030" if enc != "utf-8" else enc
            )
        self.site.list_pages[column] = len(chunks)


def _policies(w: _Writer) -> list[tuple[str, str, str]]:
    entries = []
    for i in range(25):
        day = date(2019, 1, 1) + timedelta(days=3 * i)
        n = 1001 + i
        path = f"zcwj/{day:%Y%m}/t{day:%Y%m%d}_{n}.html"
        title = f"示范市人民政府关于政策事项{i + 1}的通知"
        doc_raw = "示府发" + _BRACKETS[i % 5].format(y=day.year, n=f"0{i + 1}" if i % 7 == 0 else i + 1)
        published = f"{day.isoformat()}T00:00:00+08:00"
        forms = [
            f"<tr><td>发布日期：</td><td>{day.isoformat()}</td></tr>",
            f"<tr><td>发布时间：{day.isoformat()} 09:30</td></tr>",
            f"<tr><td>发布日期：{day.year}年{day.month}月{day.day}日</td></tr>",
            f"<tr><td>成文日期：{_cn_year(day.year)}年{_cn_small(day.month)}月{_cn_small(day.day)}日</td></tr>",
            "",  # the page shows no date: the path's tYYYYMMDD gives the day
        ]
        if i % 5 == 1:
            published = f"{day.isoformat()}T09:30:00+08:00"
        folder = f"{day:%Y%m}"
        pdf, doc = f"P0{n}.pdf", f"W0{n}.docx"
        w.put(f"zcwj/{folder}/{pdf}", _pdf(title))
        w.put(f"zcwj/{folder}/{doc}", _zip("word/document.xml", title))
        attachments = [
            (f"files/zcwj/{folder}/{pdf}", f"附件{i + 1}.pdf"),
            (f"files/zcwj/{folder}/{doc}", doc),
        ]
        missing = ""
        if i == 3:  # linked from the page but never mirrored: carried, for the importer to report
            missing = f'<a href="./lost_{n}.xls">附件：统计表</a>'
            attachments.append((f"files/zcwj/{folder}/lost_{n}.xls", "附件：统计表.xls"))
            w.site.notes[path] = {"missing_attachment"}
        prev = day - timedelta(days=3)
        sibling = f"{prev:%Y%m}/t{prev:%Y%m%d}_{n - 1}.html" if i else ""
        body = f"""<div class="TRS_Editor"><p>第{i + 1}号政策正文。</p><p onclick="evil()">各区人民政府：</p>
<script>alert('x')</script><p><a href="{pdf}">附件{i + 1}</a></p><!-- 编辑备注 -->
<p><img src="../../images/logo.png"></p>{f'<p><a href="../{sibling}">上一篇</a></p>' if sibling else ""}
<div class="share">分享到微博</div></div>"""
        info = f"""<table class="xxgk"><tr><td>索 引 号：</td><td>11990100MB0000/2019-{n:05d}</td></tr>
<tr><td>发布机构：</td><td>示范市人民政府办公室</td></tr><tr><td>文　　号：</td><td>{doc_raw}</td></tr>{forms[i % 5]}</table>"""
        related = ""
        if i < INTERPRETED and i % 3 != 2:  # the policy names its interpretation
            related = f'<div class="related"><a href="/art/2020/5/art_2_{i + 1}.html">图解：政策事项{i + 1}解读</a></div>'
        title_html = "" if i == 24 else f"<h1>{title}</h1>"  # the last page lost its heading
        main = f"""<div class="article">{info}{title_html}{body}<div class="fj"><a href="{doc}">{doc}</a>{missing}</div>
{related}</div>"""
        w.put(path, _page(title, main))
        entries.append((path.removeprefix("zcwj/"), title, day.isoformat()))
        if i == 24:
            w.site.skipped[path] = "no_title_match"
            continue
        w.site.items[f"/{path}"] = Expected(
            "zcwj",
            title,
            published,
            doc_number=f"示府发〔{day.year}〕{i + 1}号",
            issuer="示范市人民政府办公室",
            index_number=f"11990100MB0000/2019-{n:05d}",
            written_at=day.isoformat() if i % 5 == 3 else None,
            attachments=attachments,
            body_has=[
                f"第{i + 1}号政策正文",
                f'href="files/zcwj/{folder}/{pdf}"',
                f'src="{BASE_URL}/images/logo.png"',
            ]
            + ([f'href="{BASE_URL}/zcwj/{sibling}"'] if sibling else []),
        )
    return entries


def _interpretations(w: _Writer, policies: list[str]) -> list[tuple[str, str, str]]:
    entries = []
    for i in range(INTERPRETED):
        day = date(2020, 5, 1) + timedelta(days=i)
        path = f"art/2020/5/art_2_{i + 1}.html"
        title = f"《政策事项{i + 1}》政策解读"
        back = ""
        if i % 3 != 1:  # the interpretation names its policy (i % 3 == 0: both sides link)
            back = f'<p>政策原文：<a href="/{policies[i]}">示范市人民政府关于政策事项{i + 1}的通知</a></p>'
        when = f"<div class='info'>发布时间：{day.isoformat()} 10:00</div>" if i % 2 else ""
        main = f'<div class="article"><h1>{title}</h1>{when}<div id="zoom"><p>解读正文{i + 1}。</p>{back}</div></div>'
        w.put(path, _page(title, main))
        entries.append((f"../{path}", title, day.isoformat()))
        published = f"{day.isoformat()}T10:00:00+08:00" if i % 2 else f"{day.isoformat()}T00:00:00+08:00"
        relations = [("interprets", f"/{policies[i]}")]
        w.site.items[f"/{path}"] = Expected(
            "zcjd", title, published, relations=relations, body_has=[f"解读正文{i + 1}"]
        )
    for i in range(INTERPRETED):
        w.site.items[f"/{policies[i]}"].relations.append(
            ("interpreted_by", f"/art/2020/5/art_2_{i + 1}.html")
        )
    # A list entry whose page the mirror never fetched.
    entries.insert(5, ("../art/2020/6/art_2_99.html", "未镜像的解读", "2020-06-01"))
    w.site.notes["zcjd/index.html"] = {"listed_page_missing"}
    return entries


def _notices(w: _Writer) -> list[tuple[str, str, str]]:
    entries = []
    for i in range(21):
        day = date(2021, 1, 15) + timedelta(days=i)
        n = 3001 + i
        path = f"tzgg/{day:%Y%m}/t{day:%Y%m%d}_{n}.html"
        # 喆 and 镕 are GBK, not GB2312: old "gb2312" pages hold them all the time.
        title = f"关于第{i + 1}批喆镕工程验收的公告"
        body = "" if i == 20 else f'<div id="zoom"><p>公告正文{i + 1}：请相关单位于规定时间内办理。</p></div>'
        main = f"""<div class="article"><div class="title">{title}</div>
<div class="info">发布日期：{day.year}年{day.month}月{day.day}日　　来源：示范市应急管理局</div>{body}</div>"""
        w.put(path, _page(title, main, "gb2312"), "gb18030")
        entries.append((path.removeprefix("tzgg/"), title, day.isoformat()))
        if i == 20:
            w.site.skipped[path] = "no_body_match"
            continue
        w.site.items[f"/{path}"] = Expected(
            "tzgg",
            title,
            f"{day.isoformat()}T00:00:00+08:00",
            issuer="示范市应急管理局",
            archived=True,
            body_has=[f"公告正文{i + 1}"],
        )
    return entries


def make_site(root: Path) -> Site:
    w = _Writer(root)
    policies = _policies(w)
    w.lists("zcwj", "政策文件", policies)
    w.lists("zcjd", "政策解读", _interpretations(w, [f"zcwj/{h}" for h, _, _ in policies]))
    w.lists("tzgg", "通知公告", _notices(w), "gb2312")
    w.put("index.html", _page("首页", "<div class='home'>欢迎</div>"))
    w.put("about/contact.html", _page("联系我们", "<div class='about'>电话</div>"))
    w.put("search/result.html", _page("搜索", "<div>结果</div>"))
    w.put("images/logo.png", b"\x89PNG\r\n\x1a\n")
    w.site.skipped.update(
        {"index.html": "unmatched_url_pattern", "about/contact.html": "unmatched_url_pattern"}
        | {"search/result.html": "excluded"}
    )
    return w.site
