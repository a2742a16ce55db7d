"""The converter's less common paths, on a handful of hand-written pages."""

from __future__ import annotations

import json
from pathlib import Path

from services.content.service.mirror import ITEMS, Mapping, Report, convert_mirror


def _site(root: Path, pages: dict[str, str]) -> None:
    for path, html in pages.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"<html><head></head><body>{html}</body></html>", encoding="utf-8")


def _convert(root: Path, out: Path, **mapping: object) -> tuple[dict[str, dict[str, object]], Report]:
    report = convert_mirror(root, Mapping.model_validate({"base_url": "http://old.gov.cn", **mapping}), out)
    lines = (out / ITEMS).read_text(encoding="utf-8").splitlines()
    return {i["source_key"]: i for i in map(json.loads, lines)}, report


def _notes(report: Report) -> dict[str, set[str]]:
    return {p.path: {n["kind"] for n in p.notes} for p in report.pages if p.notes}


def test_metadata_selectors_and_edge_notes(tmp_path: Path) -> None:
    root = tmp_path / "site"  # the host folder itself, not wget's parent folder
    _site(
        root,
        {
            "a/index.html": '<ul><li><a href="1.html">一</a> 2020-01-02</li><li><a href="/b/2.html">二</a> 2020-02-03</li></ul>',
            "b/index.html": '<ul><li><a href="2.html">二</a></li></ul>',
            "a/1.html": '<meta name="ArticleTitle" content="一号文_旧网站"><h1>忽略</h1>'
            '<p class="wh">文号为 旧发(2020)7号 。</p><div id="zoom">正文<a href="http://cdn.x.cn/f.pdf">附</a>'
            '<a href="../b/2.html">见二号的解读</a></div>',
            "b/2.html": '<h1>二号文</h1><div id="zoom">二<a href="/a/1.html">一号的解读</a></div>',
            "b/3.html": '<h1>三号文</h1><div id="zoom">无日期</div>',
        },
    )
    detail = {
        "title": {"selector": ["meta[name='ArticleTitle']@content", "h1"]},
        "title_strip": "_旧网站$",
        "doc_number": {"selector": "p.wh", "pattern": r"(\S+\d号)"},
        "body": "#zoom",
    }
    items, report = _convert(
        root,
        tmp_path / "out",
        detail=detail,
        columns=[
            {"column": "a", "list": "a/index.html"},
            {"column": "b", "list": "b/index.html", "detail": "b/3.html"},
        ],
    )
    one, two = items["/a/1.html"], items["/b/2.html"]
    assert one["title"] == "一号文" and one["doc_number"] == "旧发〔2020〕7号"
    assert one["published_at"] == "2020-01-02T00:00:00+08:00"  # from the list entry
    assert one["attachments"] == [] and 'href="http://cdn.x.cn/f.pdf"' in one["body_html"]
    assert two["column"] == "a"  # listed by a first, then by b
    assert one["relations"] == [] and two["relations"] == []  # each claims to interpret the other
    assert _notes(report) == {
        "a/1.html": {"external_attachment", "relation_conflict"},
        "b/2.html": {"relation_conflict"},
        "b/index.html": {"listed_in_two_columns"},
    }
    assert {p.path: p.reason for p in report.pages if p.reason} == {"b/3.html": "no_date"}


def test_a_dynamic_site_saved_with_adjust_extension(tmp_path: Path) -> None:
    """ASP/JSP sites: wget names `ShowArticle.asp?ArticleID=1` `ShowArticle.asp?ArticleID=1.html`."""
    root = tmp_path / "site"
    _site(
        root,
        {
            "List.asp?ClassID=1.html": "<ul><li><a href='ShowArticle.asp?ArticleID=1'>一</a> 2008-05-12</li>"
            "<li><a href='ShowArticle.asp?ArticleID=2'>二</a></li>"
            "<li><a href='ShowArticle.asp?ArticleID=3'>三</a> 2008-05-13</li></ul>",
            "ShowArticle.asp?ArticleID=1.html": "<h1>一</h1><div id='zoom'><a href='UploadFiles/a.pdf?v=2'>附件</a>"
            "<a href='ShowArticle.asp?ArticleID=3#p2'>政策解读</a></div>",
            "ShowArticle.asp?ArticleID=3.html": "<h1>三</h1><div id='zoom'>解读正文</div>",
        },
    )
    (root / "UploadFiles").mkdir()
    (root / "UploadFiles" / "a.pdf?v=2").write_bytes(b"%PDF-1.4\n%%EOF\n")
    items, report = _convert(
        root,
        tmp_path / "out",
        detail={"body": "#zoom"},
        columns=[{"column": "xxgk", "list": "List.asp?ClassID=1.html"}],
    )
    assert sorted(items) == ["/ShowArticle.asp?ArticleID=1", "/ShowArticle.asp?ArticleID=3"]
    one = items["/ShowArticle.asp?ArticleID=1"]
    assert one["original_url"] == "http://old.gov.cn/ShowArticle.asp?ArticleID=1"
    assert one["attachments"] == [{"path": "files/UploadFiles/a.pdf", "name": "附件.pdf"}]
    assert (tmp_path / "out" / "files" / "UploadFiles" / "a.pdf").is_file()
    assert 'href="http://old.gov.cn/ShowArticle.asp?ArticleID=3#p2"' in str(one["body_html"])
    assert one["relations"] == [{"kind": "interpreted_by", "source_key": "/ShowArticle.asp?ArticleID=3"}]
    assert _notes(report) == {"List.asp?ClassID=1.html": {"listed_page_missing"}}


def test_a_label_that_swallowed_a_paragraph_is_left_out(tmp_path: Path) -> None:
    root = tmp_path / "site"
    long_issuer = "示范市" + "某某" * 60
    _site(
        root,
        {"a/index.html": "<li><a href='1.html'>一</a> 2020-01-02</li>",
         "a/1.html": f"<h1>一</h1><p>发布机构：{long_issuer}</p><p>文号：示发〔2020〕1号</p><div id='zoom'>正文</div>"},
    )  # fmt: skip
    items, report = _convert(
        root, tmp_path / "out", detail={"body": "#zoom"}, columns=[{"column": "a", "list": "a/index.html"}]
    )
    assert items["/a/1.html"]["issuer"] is None and items["/a/1.html"]["doc_number"] == "示发〔2020〕1号"
    assert _notes(report) == {"a/1.html": {"value_too_long"}}
