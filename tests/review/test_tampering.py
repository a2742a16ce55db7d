"""Defacement by brands no lexicon lists: each detector, and the held-out evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.demo.corpus import read_corpus
from services.resources.review import Reviewer, default_reviewer
from services.resources.review.gazetteer import GAZETTEER_DIR, Gazetteer
from tests.review.tampering import HELD_OUT, STYLES, Page, samples

SERVICES = Path(__file__).resolve().parents[2] / "services"
# Measured 2026-12-02 on all 3,471 corpus texts, 300 tampered pages per style: recall 0.98-1.00,
# no clean page blocked. The floor is the acceptance target.
MIN_PRECISION = 0.95
MIN_RECALL = 0.95
NOTICE = (
    "丹东市人民政府\n丹政办发〔2019〕43号\n丹东市人民政府办公室关于印发丹东市政府网站和政务新媒体管理办法的通知\n"
    "各县(市)区人民政府、各经济区管委会,市政府各部门:\n"
    "《丹东市政府网站和政务新媒体管理办法》已经市政府同意,现印发给你们,请认真贯彻执行。\n"
    "丹东市人民政府办公室\n2019年11月13日"
)


@pytest.fixture
def reviewer() -> Reviewer:
    return default_reviewer()


def blocking_rules(reviewer: Reviewer, **kw: object) -> set[str]:
    return {f.rule for f in reviewer.review(**kw).blocking}  # type: ignore[arg-type]


def test_held_out_names_are_not_shipped() -> None:
    """The evaluation means something only while no detector or data file knows its brands."""
    shipped = [
        p for p in SERVICES.rglob("*") if p.is_file() and p.suffix in {".py", ".txt", ".tsv", ".json", ".md"}
    ]
    assert any(p.parent == GAZETTEER_DIR for p in shipped)
    leaks = [(str(p), name) for p in shipped for name in HELD_OUT if name in p.read_text(encoding="utf-8")]
    assert not leaks


def test_gazetteer_has_divisions_and_short_names() -> None:
    gaz = Gazetteer.load()
    assert len(gaz.full) > 3000
    assert {"丹东市", "宽甸满族自治县", "北京市"} <= gaz.full and {"丹东", "宽甸"} <= gaz.short
    assert "鸿运国际" not in gaz.full | gaz.short
    assert (GAZETTEER_DIR / "README.md").read_text(encoding="utf-8").count("cpca") >= 1


def test_city_replaced_by_unlisted_brand_blocks_with_reason(reviewer: Reviewer) -> None:
    assert not reviewer.review(text=NOTICE).findings
    # 「天和娱乐」 is in no lexicon; the issuer frame and the place slot give it away.
    review = reviewer.review(text=NOTICE.replace("丹东", "天和娱乐"))
    found = {f.rule for f in review.blocking}
    assert {"tamper.unknown-issuer", "tamper.unknown-place-title"} <= found
    first = next(f for f in review.blocking if f.rule == "tamper.unknown-issuer").as_dict()
    assert (
        first["detector"] == "issuer-frame"
        and "天和娱乐" in first["reason"]
        and "天和娱乐" in first["excerpt"]
    )
    assert set(first) >= {"kind", "severity", "excerpt", "offset", "rule", "detail", "detector", "reason"}
    # No gambling-shaped ending at all: the frame alone must do.
    assert "tamper.unknown-issuer" in blocking_rules(reviewer, text=NOTICE.replace("丹东市", "瑞禾盛"))


def test_existing_findings_name_their_detector(reviewer: Reviewer) -> None:
    finding = reviewer.review(text="澳门新葡京官网").blocking[0].as_dict()
    assert finding["detector"] == "spam" and finding["reason"] == "澳门新葡京"


def test_site_own_organisation_is_not_a_stranger(reviewer: Reviewer) -> None:
    text = NOTICE.replace("丹东市", "集约新区管委会").replace("丹政办发", "集管发")
    assert "tamper.unknown-issuer" in blocking_rules(reviewer, text=text)
    assert not blocking_rules(reviewer, text=text, own_names=["集约新区管委会"])
    # A district site of a city the gazetteer lacks names its parent city before itself.
    html = "<h1>示范市东城区人民政府关于优化营商环境的实施意见</h1><p>各街道办事处：现印发给你们。</p>"
    assert blocking_rules(reviewer, html=html)
    assert not blocking_rules(reviewer, html=html, own_names=["东城区人民政府办公室"])


def test_prefix_title_and_keyword_stuffing(reviewer: Reviewer) -> None:
    body = "<p>第一条 为了规范政府网站管理，制定本办法。</p>"
    assert not reviewer.review(html="<h1>丹东市政府网站管理办法</h1>" + body).blocking
    assert "tamper.title-prefix" in blocking_rules(
        reviewer, html="<h1>【天和娱乐】丹东市政府网站管理办法</h1>" + body
    )
    assert "tamper.title-prefix" in blocking_rules(
        reviewer, html="<h1>瑞禾盛丹东市政府网站管理办法</h1>" + body
    )
    stuffed = "<p>瑞禾盛,瑞禾盛官网,瑞禾盛注册,瑞禾盛手机版,瑞禾盛开户</p>"
    assert "tamper.keyword-stuffing" in blocking_rules(
        reviewer, html="<h1>丹东市政府网站管理办法</h1>" + stuffed + body
    )
    # Laws enumerate words with 、 all the time; that is not stuffing.
    law = "<p>公路、公路桥梁、公路隧道、公路渡口限载、限高的，公路管理机构应当设置标志。</p>"
    assert not reviewer.review(html=law).blocking


def test_issuer_swapped_against_previous_version(reviewer: Reviewer) -> None:
    swapped = NOTICE.replace("丹东市人民政府办公室\n2019", "振兴实业人民政府办公室\n2019")
    assert "tamper.issuer-changed" not in blocking_rules(reviewer, text=swapped)
    found = reviewer.review(text=swapped, previous=NOTICE).blocking
    changed = [f for f in found if f.rule == "tamper.issuer-changed"]
    assert changed and changed[0].detector == "version-diff" and "丹东" in changed[0].reason
    assert not reviewer.review(text=NOTICE, previous=NOTICE).blocking


def test_seed_regulation_clean_and_each_held_out_swap_blocked(
    reviewer: Reviewer, seed_texts: list[str]
) -> None:
    for text in seed_texts:
        assert not reviewer.review(text=text).blocking
        missed = [b for b in HELD_OUT if not reviewer.review(text=text.replace("丹东", b)).blocking]
        missed += [b for b in HELD_OUT if not reviewer.review(text=text.replace("丹东市", b)).blocking]
        assert not missed


def test_held_out_tampering_precision_recall_per_style(reviewer: Reviewer, corpus_file: Path) -> None:
    pages = [Page(d["title"], d["body"], d["id"]) for d in read_corpus(str(corpus_file))]
    assert len(pages) >= 3000
    false_positives = [p.source for p in pages if reviewer.review(html=p.html()).blocking]
    false_positives += [p.source for p in pages if reviewer.review(text=p.body).blocking]
    assert not false_positives
    caught: dict[str, list[bool]] = {style: [] for style in STYLES}
    for sample in samples(pages, 300):
        caught[sample.style].append(bool(reviewer.review(html=sample.html).blocking))
    for style, flags in caught.items():
        tp = sum(flags)
        precision = tp / (tp + len(false_positives)) if tp else 0.0
        recall = tp / len(flags)
        assert len(flags) == 300
        assert precision >= MIN_PRECISION, (style, precision)
        assert recall >= MIN_RECALL, (style, recall)


@pytest.mark.parametrize(
    "title",
    [
        "工作动态：本周工作情况",
        "通知公告：本周工作情况",
        "聚焦两会｜我市代表热议民生实事",
        "图解：2026年政府工作报告",
        "权威发布——我市启动春季植树",
    ],
)
def test_news_titles_cut_by_separators_are_not_tampering(reviewer: Reviewer, title: str) -> None:
    # Government news titles use a separator all the time; one cut is held to the separator
    # rule only before an official document's title (which names its kind).
    body = f"<p>{title}。近日，市政府召开会议，部署有关工作。</p>"
    assert not blocking_rules(reviewer, html=body, title=title, own_names=["示范市人民政府"])
