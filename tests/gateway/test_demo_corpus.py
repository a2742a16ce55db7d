"""The corpus importer's reading of a legal text: dates, issuer, Markdown to HTML."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from gateway.demo.corpus import markdown_to_html, metadata, read_corpus

DOC = {
    "id": "00317eb27297",
    "title": "中华人民共和国无线电管制规定",
    "region": "全国",
    "category": "行政法规",
    "events": [
        "2010年8月31日 中华人民共和国国务院、中华人民共和国中央军事委员会令第579号公布",
        "2010年11月1日 施行",
    ],
    "version_date": None,
    "body": "# 第一章 总则\n\n第一条 为了保障无线电管制的有效实施，制定本规定。\n\n第二条 本规定所称<无线电管制>……",
}


def test_metadata_takes_the_first_event_date_and_the_issuer() -> None:
    meta = metadata(DOC)
    assert meta["written_at"] == "2010-08-31"
    assert meta["issuer_org"]["name"] == "中华人民共和国国务院、中华人民共和国中央军事委员会"
    assert meta["genre"] == "fagui" and meta["title"] == DOC["title"]


def test_markdown_becomes_escaped_headings_and_paragraphs() -> None:
    html = markdown_to_html(DOC["body"])
    assert html.startswith("<h2>第一章 总则</h2>")
    assert "<p>第一条 为了保障无线电管制的有效实施，制定本规定。</p>" in html
    assert "&lt;无线电管制&gt;" in html


def test_reads_gzip_jsonl_with_a_limit(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(5):
            fh.write(json.dumps({**DOC, "id": str(i)}, ensure_ascii=False) + "\n")
    assert [d["id"] for d in read_corpus(str(path), limit=3)] == ["0", "1", "2"]
