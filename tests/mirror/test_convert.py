"""The converter on a generated old site: exactly the expected items, and every other page reported."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from services.content.service.mirror import ITEMS, REPORT, Mapping, Outcome, convert_mirror
from tests.mirror.sitegen import BASE_URL, CHROME, GENRES, HOST, INTERPRETED, MAPPING_TOML, Site, make_site


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, Path, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("mirror")
    site = make_site(tmp / "mirror")
    bundle = tmp / "bundle"
    convert_mirror(site.root, Mapping.model_validate(tomllib.loads(MAPPING_TOML)), bundle)
    return site, bundle, json.loads((bundle / REPORT).read_text(encoding="utf-8"))


def _items(bundle: Path) -> dict[str, dict[str, Any]]:
    lines = (bundle / ITEMS).read_text(encoding="utf-8").splitlines()
    return {item["source_key"]: item for item in map(json.loads, lines)}


def test_the_fixture_is_the_site_the_issue_asks_for(converted: tuple[Site, Path, dict[str, Any]]) -> None:
    site, _, _ = converted
    assert len(site.items) >= 60
    assert {e.column for e in site.items.values()} == {"zcwj", "zcjd", "tzgg"}
    assert all(n >= 3 for n in site.list_pages.values())
    assert (site.root / HOST / "zcwj" / "index_2.html").is_file()


def test_exactly_the_expected_items(converted: tuple[Site, Path, dict[str, Any]]) -> None:
    site, bundle, _ = converted
    items = _items(bundle)
    assert sorted(items) == sorted(site.items)
    for key, want in site.items.items():
        got = items[key]
        assert got["column"] == want.column, key
        assert got["title"] == want.title, key
        assert got["published_at"] == want.published_at, key
        assert got["doc_number"] == want.doc_number, key
        assert got["issuer"] == want.issuer, key
        assert got["index_number"] == want.index_number, key
        assert got["written_at"] == want.written_at, key
        assert got["original_url"] == BASE_URL + key
        assert got["genre"] == GENRES[want.column]
        assert got["archived"] is want.archived
        assert [(a["path"], a["name"]) for a in got["attachments"]] == want.attachments, key
        assert sorted((r["kind"], r["source_key"]) for r in got["relations"]) == sorted(want.relations), key


def test_dates_in_every_form_and_doc_numbers_in_every_bracket(
    converted: tuple[Site, Path, dict[str, Any]],
) -> None:
    _, bundle, _ = converted
    policies = [i for i in _items(bundle).values() if i["column"] == "zcwj"]
    # 〔〕 [] （） 【】 () and a zero-padded serial all arrive as the standard form
    assert all(p["doc_number"].startswith("示府发〔2019〕") for p in policies)
    assert {p["published_at"][11:] for p in policies} == {"00:00:00+08:00", "09:30:00+08:00"}


def test_policy_and_interpretation_are_related_from_either_side(
    converted: tuple[Site, Path, dict[str, Any]],
) -> None:
    _, bundle, _ = converted
    items = _items(bundle)
    related = {(k, r["kind"], r["source_key"]) for k, i in items.items() for r in i["relations"]}
    for n in range(1, INTERPRETED + 1):
        interpretation = f"/art/2020/5/art_2_{n}.html"
        (policy,) = [k for k, kind, other in related if kind == "interpreted_by" and other == interpretation]
        assert (interpretation, "interprets", policy) in related
    assert len(related) == 2 * INTERPRETED


def test_bodies_hold_the_region_only_with_links_that_keep_working(
    converted: tuple[Site, Path, dict[str, Any]],
) -> None:
    site, bundle, _ = converted
    for key, item in _items(bundle).items():
        body = item["body_html"]
        for chrome in CHROME:
            assert chrome not in body, key
        for code in ("<script", "onclick", "<!--", "分享到微博", "<style"):
            assert code not in body, key
        for wanted in site.items[key].body_has:
            assert wanted in body, (key, wanted)


def test_attachments_are_real_files_in_the_bundle(converted: tuple[Site, Path, dict[str, Any]]) -> None:
    site, bundle, _ = converted
    paths = [a["path"] for i in _items(bundle).values() for a in i["attachments"]]
    present = [p for p in paths if (bundle / p).is_file()]
    assert len(present) == len(paths) - 1
    assert all(
        (bundle / p).read_bytes() == (site.root / HOST / p.removeprefix("files/")).read_bytes()
        for p in present
    )


def test_gbk_section_is_read(converted: tuple[Site, Path, dict[str, Any]]) -> None:
    _, bundle, report = converted
    notices = [i for i in _items(bundle).values() if i["column"] == "tzgg"]
    assert notices and all("喆镕" in n["title"] for n in notices)
    assert {p["encoding"] for p in report["pages"] if p.get("column") == "tzgg"} == {"gb18030"}


def test_bad_pages_are_reported_and_not_fatal(converted: tuple[Site, Path, dict[str, Any]]) -> None:
    site, _, report = converted
    pages = {p["path"]: p for p in report["pages"]}
    skipped = {path: p["reason"] for path, p in pages.items() if p["outcome"] == Outcome.SKIPPED}
    assert skipped == site.skipped
    notes = {path: {n["kind"] for n in p["notes"]} for path, p in pages.items() if p.get("notes")}
    assert notes == site.notes
    assert report["items"] == len(site.items)
    assert report["list_pages"] == sum(site.list_pages.values())
    assert report["pages_seen"] == len(site.items) + len(site.skipped) + report["list_pages"]


def test_a_rerun_writes_the_same_bundle(converted: tuple[Site, Path, dict[str, Any]], tmp_path: Path) -> None:
    site, bundle, _ = converted
    again = tmp_path / "again"
    convert_mirror(site.root, Mapping.model_validate(tomllib.loads(MAPPING_TOML)), again)
    assert (again / ITEMS).read_bytes() == (bundle / ITEMS).read_bytes()
