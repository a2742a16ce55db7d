"""The pieces the converter reads old pages with: encodings, dates, labels, patterns, the mapping."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.content.service.mirror import Mapping, load_mapping
from services.content.service.mirror.extract import resolve
from services.content.service.mirror.mapping import ColumnRule, glob_regex
from services.content.service.mirror.text import date_from_path, decode_page, iso, label_value, parse_date
from tests.mirror.sitegen import MAPPING_TOML


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2019-03-01", "2019-03-01T00:00:00+08:00"),
        ("2019年3月1日", "2019-03-01T00:00:00+08:00"),
        ("发布时间：2019-03-01 09:00", "2019-03-01T09:00:00+08:00"),
        ("发布时间：2019-03-01 09:05:07", "2019-03-01T09:05:07+08:00"),
        ("日期：2019/3/1", "2019-03-01T00:00:00+08:00"),
        ("2019.03.01", "2019-03-01T00:00:00+08:00"),
        ("２０１９年３月１日", "2019-03-01T00:00:00+08:00"),
        ("二〇一九年三月一日", "2019-03-01T00:00:00+08:00"),
        ("二〇一九年十二月三十一日", "2019-12-31T00:00:00+08:00"),
        ("2019年13月40日 再 2020年2月29日", "2020-02-29T00:00:00+08:00"),
    ],
)
def test_dates(text: str, want: str) -> None:
    found = parse_date(text)
    assert found is not None and iso(found) == want


@pytest.mark.parametrize("text", ["", "无", "第3号", "2019年", "浏览次数：20190301"])
def test_no_date(text: str) -> None:
    assert parse_date(text) is None


def test_date_from_a_trs_path() -> None:
    found = date_from_path("zcwj/201903/t20190301_1001.html")
    assert found is not None and iso(found) == "2019-03-01T00:00:00+08:00"
    assert date_from_path("art/2020/5/art_2_1.html") is None


@pytest.mark.parametrize(
    ("text", "label", "want"),
    [
        ("索 引 号：\n0001/2019-01\n发布机构：\n市政府", "索引号", "0001/2019-01"),
        ("文　　号：深府〔2019〕3号", "文号", "深府〔2019〕3号"),
        ("发布日期：2021年1月15日　　来源：示范市应急管理局", "来源", "示范市应急管理局"),
        ("发布日期：2021年1月15日　　来源：示范市应急管理局", "发布日期", "2021年1月15日"),
        ("文号\n示府发[2019]3号", "文号", "示府发[2019]3号"),
        ("文号：\n\n", "文号", None),
        ("发文字号：示府发〔2019〕3号", "文号", None),
    ],
)
def test_labels(text: str, label: str, want: str | None) -> None:
    assert label_value(text, label) == want


def test_encodings() -> None:
    page = '<html><head><meta charset="gb2312"></head><body>喆镕</body></html>'
    assert decode_page(page.encode("gb18030")) == (page, "gb18030")
    gbk = '<meta http-equiv="Content-Type" content="text/html; charset=GBK"><p>政务公开</p>'
    assert decode_page(gbk.encode("gbk"))[0] == gbk
    assert decode_page(b"\xef\xbb\xbf<p>\xe6\x94\xbf</p>") == ("<p>政</p>", "utf-8")
    # Declared UTF-8, written in GBK, as a CMS upgrade left some pages: the bytes win.
    wrong = '<meta charset="utf-8"><p>通知公告</p>'
    assert decode_page(wrong.encode("gb18030")) == (wrong, "gb18030")


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("zcwj/**/t*_*.html", "zcwj/201903/t20190301_1.html", True),
        ("zcwj/**/t*_*.html", "zcwj/t20190301_1.html", True),
        ("zcwj/**/t*_*.html", "zcwj/index_1.html", False),
        ("zcwj/*.html", "zcwj/a/b.html", False),
        (r"re:art/\d{4}/\d+/art_\d+_\d+\.html", "art/2020/5/art_2_1.html", True),
    ],
)
def test_patterns(pattern: str, path: str, hit: bool) -> None:
    assert bool(glob_regex(pattern).fullmatch(path)) is hit


def test_pagination_siblings() -> None:
    pages = ColumnRule(column="zcwj", list=["zcwj/index.html"]).page_pattern("zcwj/index.html")
    assert [
        p for p in ("zcwj/index.html", "zcwj/index_12.html", "zcwj/index_a.html") if pages.fullmatch(p)
    ] == [
        "zcwj/index.html",
        "zcwj/index_12.html",
    ]


@pytest.mark.parametrize(
    ("href", "want"),
    [
        ("P1.pdf", "zcwj/201903/P1.pdf"),
        ("../../images/a.png", "images/a.png"),
        ("/tzgg/", "tzgg/index.html"),
        ("http://www.x.gov.cn/a%20b.doc", "a b.doc"),
        ("http://other.gov.cn/a.pdf", None),
        ("javascript:void(0)", None),
        ("#top", None),
    ],
)
def test_links_resolve_inside_the_mirror(href: str, want: str | None) -> None:
    assert resolve("zcwj/201903/t20190301_1.html", href, "http://www.x.gov.cn") == want


def test_mapping_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "map.yaml"
    yaml_file.write_text(
        "base_url: http://www.x.gov.cn\ndetail:\n  body: '#zoom'\n"
        "columns:\n  - column: zwgk/zcwj\n    list: zcwj/index.html\n"
        "    detail_rules:\n      title: {selector: h2}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(yaml_file)
    (rule,) = mapping.columns
    assert rule.column == "zwgk/zcwj" and rule.list == ["zcwj/index.html"]
    assert rule.detail_rules.body == ["#zoom"] and rule.detail_rules.title.selector == ["h2"]

    typo = tmp_path / "typo.toml"
    typo.write_text('base_url = "http://www.x.gov.cn"\n[[columns]]\ncolumn = "a"\nlsit = "a/index.html"\n')
    with pytest.raises(ValidationError, match="lsit"):
        load_mapping(typo)


def test_the_documented_example_is_the_mapping_the_tests_convert() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "import-mirror.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    assert Mapping.model_validate(tomllib.loads(example)) == Mapping.model_validate(
        tomllib.loads(MAPPING_TOML)
    )


@pytest.mark.parametrize(
    ("detail", "column", "named"),
    [
        ({"body": "div[["}, {}, "div[["),
        ({"title": {"selector": "h1[@content"}}, {}, "h1[@content"),
        ({"doc_number": {"pattern": "([0-9]"}}, {}, "([0-9]"),
        ({}, {"detail": "re:art/(\\d+.html"}, "art/"),
        ({}, {"list_item": "ul >> li"}, "ul >> li"),
    ],
)
def test_a_broken_selector_or_pattern_is_refused_when_the_mapping_is_read(
    detail: dict[str, object], column: dict[str, object], named: str
) -> None:
    raw = {"base_url": "http://www.x.gov.cn", "detail": detail, "columns": [{"column": "a", **column}]}
    with pytest.raises(ValidationError, match=re.escape(named)):
        Mapping.model_validate(raw)
