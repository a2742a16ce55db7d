"""The corpus importer's reading of a legal text: dates, issuer, Markdown to HTML."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console

from gateway.demo import corpus
from gateway.demo.city import PORTAL
from gateway.demo.corpus import markdown_to_html, metadata, read_corpus, token_expiry
from gateway.demo.seed import Demo
from services.content.service.documents import original_published_at
from services.kernel import clock
from services.resources.schemas import ResourceMetadata

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


DECREED = {
    "id": "d1",
    "title": "物业管理条例",
    "region": "全国",
    "category": "行政法规",
    "events": [
        "2003年6月8日 中华人民共和国国务院令第379号公布",
        "2003年9月1日 施行",
        "2007年8月26日 《国务院关于修改〈物业管理条例〉的决定》第一次修订",
        "2018年3月19日 《国务院关于修改和废止部分行政法规的决定》第三次修订",
    ],
    "version_date": "2018-03-19",
    "body": "第一条 为了规范物业管理活动，制定本条例。",
}


def test_metadata_keeps_the_decree_number_the_promulgation_date_and_the_history() -> None:
    meta = metadata(DECREED)
    assert meta["doc_no"] == "中华人民共和国国务院令第379号"
    # the 2018 version date would come after the 发布日期, which the library refuses to store
    assert meta["published_at"] == "2003-06-08" and meta["written_at"] == "2003-06-08"
    assert metadata({**DECREED, "version_date": "2001-01-01"})["written_at"] == "2001-01-01"
    assert [(s["on"], s["kind"]) for s in meta["history"]] == [
        ("2003-06-08", "公布"),
        ("2003-09-01", "施行"),
        ("2007-08-26", "修订"),
        ("2018-03-19", "修订"),  # a revision, though the decision's name says 废止
    ]
    assert meta["validity"] == "有效"
    assert ResourceMetadata.model_validate(meta).doc_no == "中华人民共和国国务院令第379号"
    repealed = metadata({**DECREED, "events": [*DECREED["events"], "2024年1月1日 废止"]})
    assert repealed["validity"] == "废止"
    suffixed = metadata({**DECREED, "events": ["2003年8月18日 食品药品监管局、海关总署第4号令公布"]})
    assert suffixed["doc_no"] == "食品药品监管局、海关总署第4号令"
    assert "施行" in metadata(DECREED)["abstract"]


def _jwt(exp: float) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"e30.{claims}.sig"


class _Platform:
    """Just enough of the gateway for the importer: tokens that expire after 600 s, and each
    text's requests advancing the clock 100 s, so a 40-text import outlives several tokens."""

    def __init__(self) -> None:
        self.sign_ins = 0
        self.published: list[int] = []
        self.ids = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/identity/v1/token":
            self.sign_ins += 1
            return httpx.Response(200, json={"access_token": _jwt(clock.epoch() + 600)})
        if path.endswith("/columns"):
            return httpx.Response(200, json={"items": [{"name": "法律法规", "id": 7}]})
        if request.method == "GET":
            return httpx.Response(200, json={"items": [], "total": 0})
        token = request.headers["authorization"].removeprefix("Bearer ")
        if token_expiry(token) is None or token_expiry(token) < clock.epoch():  # type: ignore[operator]
            return httpx.Response(401, json={"detail": "Signature has expired"})
        if path.endswith("/resources"):
            body = json.loads(request.content)
            if body["metadata"]["title"].startswith("坏"):
                return httpx.Response(422, json={"detail": "标题不合规"})
            self.ids += 1
            clock.shift(timedelta(seconds=100))
            return httpx.Response(201, json={"id": self.ids})
        if path.endswith("/store"):
            return httpx.Response(200, json={"version": 1})
        if path.endswith("/publications"):
            return httpx.Response(201, json={"id": json.loads(request.content)["resource_id"]})
        if path.endswith("/publish"):
            self.published.append(int(path.split("/")[-2]))
        return httpx.Response(200, json={})


async def test_a_long_import_refreshes_its_tokens_and_reports_every_text_left_out(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    texts = [{**DECREED, "id": str(i), "title": f"{'坏' if i in (5, 17) else ''}条例{i}"} for i in range(40)]
    path.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in texts), encoding="utf-8")
    platform = _Platform()
    console = Console(record=True, width=200)
    accounts = [{"username": f"{PORTAL.code}_{s}", "password": "x"} for s in ("editor", "reviewer1")]
    try:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(platform.handle), base_url="http://t"
        ) as client:
            demo = Demo(
                client=client,
                console=console,
                settings=None,
                directory=None,
                corpus=str(path),
                accounts=accounts,
            )  # type: ignore[arg-type]
            demo.tokens["jiyue-internal"] = _jwt(clock.epoch() + 10**6)
            await corpus.seed(demo)
    finally:
        clock.reset()
    assert len(platform.published) == 38  # every good text, none lost to an expired token
    assert platform.sign_ins > 4  # the 4,000 s import signed in again along the way
    assert [line.split()[0] for line in demo.state["corpus_failures"]] == ["5", "17"]
    output = console.export_text()
    assert "失败 2 篇" in output and "坏条例5" in output and "标题不合规" in output


def test_an_imported_text_keeps_its_original_publication_date() -> None:
    published = original_published_at(metadata(DECREED))
    # The same instant as midnight in Shanghai, held in UTC (SQLite keeps only the wall time).
    assert published == datetime(2003, 6, 8, tzinfo=clock.SHANGHAI) and published.utcoffset() == timedelta(0)
    # a date not yet reached is a plan, not a past publication: going live stamps now
    assert original_published_at({"published_at": (clock.today() + timedelta(days=3)).isoformat()}) is None
    assert original_published_at({"published_at": "not a date"}) is None
