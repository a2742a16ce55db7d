"""Ranking quality held at the measured level: MRR@10 and recall@10 on labelled queries."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from services.search.backends.base import IndexDoc, SearchRequest
from tests.search.conftest import SearchHarness
from tests.search.data.queryset import build_queryset, index_docs, load_corpus, score

# Measured on tantivy with the whole corpus (see bench/search.py); held a little below.
CORPUS_FLOORS = {
    "title": (0.95, 0.95),
    "body": (0.88, 0.88),
    "doc_no": (0.98, 0.98),
    "topical": (0.95, 0.95),
}

SHIPPED_DOCS = [
    (1, "关于进一步优化营商环境的若干措施", "推行一网通办，深化放管服改革，压缩企业开办时间。"),
    (2, "城乡居民基本医疗保险实施办法", "参保人员按规定享受医疗保险待遇，医保基金专款专用。"),
    (3, "住房公积金缴存管理办法", "单位和职工应当按月缴存住房公积金。"),
    (4, "政府信息公开工作年度报告", "本年度主动公开政府信息，办理依申请公开。"),
    (5, "政务新媒体管理办法", "规范政务新媒体的开设、运维和信息发布。"),
    (6, "最低生活保障审核确认办法", "低保对象的认定条件和审核程序。"),
    (7, "社会保险费征缴暂行条例", "缴纳基本养老保险费、失业保险费。"),
    (8, "关于做好疫情防控工作的通知", "落实疫情防控措施，加强健康监测。"),
]
SHIPPED_QUERIES = [
    ("营商环境", {1}),
    ("一网通办", {1}),
    ("医保", {2}),
    ("公积金", {3}),
    ("信息公开", {4}),
    ("政务新媒体", {5}),
    ("低保", {6}),
    ("社保", {7}),
    ("疫情防控", {8}),
    ("放管服改革", {1}),
    ("基本医疗保险实施办法", {2}),
]


async def _evaluate(h: SearchHarness, queries) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    analyzer = h.app.state.ctx.state.analyzer
    per_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for kind, q, relevant in queries:
        result = await h.backend.search(SearchRequest(query=analyzer.parse_query(q), limit=10))
        per_kind[kind].append(score([hit.doc.id for hit in result.hits], relevant))
    return {
        kind: (sum(r for r, _ in v) / len(v), sum(c for _, c in v) / len(v)) for kind, v in per_kind.items()
    }


async def test_shipped_fixture_set_ranks_each_known_item_first(harness: SearchHarness) -> None:
    docs = [
        IndexDoc(id=i, resource_id=i, site="portal", title=t, body=b, url=f"/i/{i}")
        for i, t, b in SHIPPED_DOCS
    ]
    await harness.backend.upsert(docs)
    await harness.backend.commit()
    scores = await _evaluate(harness, [("shipped", q, rel) for q, rel in SHIPPED_QUERIES])
    assert scores["shipped"] == (1.0, 1.0)


@pytest.mark.timeout(600)
async def test_corpus_query_set_holds_reported_mrr_and_recall(
    harness: SearchHarness, corpus_path: Path
) -> None:
    rows = load_corpus(corpus_path)
    docs = list(index_docs(rows))
    for start in range(0, len(docs), 500):
        await harness.backend.upsert(docs[start : start + 500])
    await harness.backend.commit()
    analyzer = harness.app.state.ctx.state.analyzer
    queries = [(q.kind, q.q, q.relevant) for q in build_queryset(rows, analyzer)]
    scores = await _evaluate(harness, queries)
    for kind, (mrr_floor, recall_floor) in CORPUS_FLOORS.items():
        mrr, recall = scores[kind]
        print(f"{harness.backend.name} {kind}: MRR@10 {mrr:.3f} recall@10 {recall:.3f}")  # shown with -s
        assert mrr >= mrr_floor and recall >= recall_floor, (
            f"{kind}: MRR@10 {mrr:.3f}, recall@10 {recall:.3f}"
        )
