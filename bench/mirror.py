"""Converting a mirrored old site into an import bundle (`jiyue import-mirror`, issue 15).

`python -m bench mirror [--quick]` writes the legal corpus (../shared/data; 300 texts with
--quick) out as a TRS-style old site — list pages of 20 with index_N pagination, detail pages
with an info table, a PDF attachment each, navigation and footer, every other column in GBK —
then times `convert_mirror` over it and prints pages/s and peak RSS. The converter runs ahead of
the import, so its rate is the ceiling a mirror migration can reach before `jiyue import`.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import sys
import tempfile
import time
import tomllib
from datetime import date, timedelta
from html import escape
from pathlib import Path

from bench.common import CORPUS, Row, peak_rss_mb, print_table
from services.content.service.mirror import Mapping, Outcome, convert_mirror

CMD = "python -m bench mirror"
# ../shared beside the project; a worktree elsewhere names it (JIYUE_BENCH_CORPUS=/work/shared/...).
CORPUS = Path(os.environ.get("JIYUE_BENCH_CORPUS") or CORPUS)
COLUMNS = ("zcwj", "fgwj", "tzgg", "gfxwj")
PER_LIST = 20
MAPPING = """
base_url = "http://www.old.gov.cn"
[detail]
title = { selector = ["h1"] }
info = ["table.xxgk"]
body = ["div.TRS_Editor"]
[[columns]]
column = "zcwj"
list = "zcwj/index.html"
detail = "zcwj/**/t*_*.html"
list_item = "ul.list li"
[[columns]]
column = "fgwj"
list = "fgwj/index.html"
detail = "fgwj/**/t*_*.html"
list_item = "ul.list li"
[[columns]]
column = "tzgg"
list = "tzgg/index.html"
detail = "tzgg/**/t*_*.html"
list_item = "ul.list li"
[[columns]]
column = "gfxwj"
list = "gfxwj/index.html"
detail = "gfxwj/**/t*_*.html"
list_item = "ul.list li"
"""


def _shell(title: str, main: str, charset: str) -> str:
    return (
        f'<html><head><meta charset="{charset}"><title>{title}</title><script>var s=1;</script></head><body>'
        '<div class="nav"><ul><li><a href="/index.html">首页</a></li><li><a href="/zcwj/index.html">政策文件</a>'
        f'</li></ul></div>{main}<div class="footer">版权所有：旧网站</div></body></html>'
    )


def write_site(root: Path, limit: int | None) -> int:
    entries: dict[str, list[str]] = {c: [] for c in COLUMNS}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if limit is not None and i >= limit:
                break
            doc = json.loads(line)
            column = COLUMNS[i % len(COLUMNS)]
            charset = "gbk" if i % len(COLUMNS) % 2 else "utf-8"
            day = date(2010, 1, 1) + timedelta(days=i)
            folder = root / column / f"{day:%Y%m}"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"t{day:%Y%m%d}_{i}.html"
            (folder / f"P{i}.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
            paragraphs = "".join(f"<p>{escape(p)}</p>" for p in doc.get("body", "").split("\n") if p.strip())
            main = (
                f'<table class="xxgk"><tr><td>发布日期：</td><td>{day.year}年{day.month}月{day.day}日</td></tr>'
                f"<tr><td>文　　号：</td><td>旧发[{day.year}]{i}号</td></tr></table><h1>{escape(doc['title'])}</h1>"
                f'<div class="TRS_Editor">{paragraphs}<p><a href="P{i}.pdf">附件</a></p></div>'
            )
            page = _shell(escape(doc["title"]), main, charset)
            (folder / name).write_bytes(
                page.encode("gb18030" if charset == "gbk" else "utf-8", errors="replace")
            )
            entries[column].append(f'<li><a href="{day:%Y%m}/{name}">{escape(doc["title"])}</a></li>')
    pages = 0
    for column, items in entries.items():
        for n in range(0, len(items), PER_LIST):
            page = _shell(column, f'<ul class="list">{"".join(items[n : n + PER_LIST])}</ul>', "utf-8")
            suffix = "" if n == 0 else f"_{n // PER_LIST}"
            (root / column / f"index{suffix}.html").write_text(page, encoding="utf-8")
        pages += len(items)
    return pages


def run(quick: bool = False) -> list[Row]:
    command = CMD + (" --quick" if quick else "")
    if not CORPUS.exists():
        return [
            {"name": "mirror conversion", "n": 0, "note": f"corpus absent at {CORPUS}", "command": command}
        ]
    work = Path(tempfile.mkdtemp(prefix="jiyue-bench-mirror-"))
    try:
        details = write_site(work / "site", 300 if quick else None)
        mapping = Mapping.model_validate(tomllib.loads(MAPPING))
        started = time.perf_counter()
        report = convert_mirror(work / "site", mapping, work / "bundle")
        wall = time.perf_counter() - started
        items = report.count(Outcome.ITEM)
        return [
            {
                "name": f"convert a mirror of {details} detail pages (+{report.count(Outcome.LIST)} list pages)",
                "n": items,
                "throughput": round(len(report.pages) / wall, 1),
                "unit": "pages/s",
                "peak_rss_mb": peak_rss_mb(),
                "met": items == details,
                "target": "every detail page an item",
                "note": f"wall {wall:.1f}s; {items} items; half the columns GBK; a PDF copied per item",
                "command": command,
            }
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print_table(run(quick="--quick" in sys.argv))
