"""Labelled sets for issue 14: title fragments, decree numbers and 文号, combined queries.

Built at run time from the legal corpus (read the way `jiyue demo --corpus` imports it, so its
文号, abstract of events and issuer are what search sees) plus the demo city's own articles.

- fragment: a random contiguous 4–8 character piece of a title (inside one run of word
  characters: nobody types the 《》 in the middle), kept when at most 10 titles hold it
  verbatim; the hit that counts is the title it was cut from.
- decree: the decree number of a text's 公布/发布 event, typed short (国务院令第379号) or as
  printed; relevant are the texts promulgated under that number.
- doc_no: a 文号 in another bracket style than the text's.
- combined: a run of title words and the issuer's name (物业管理条例 国务院令).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gateway.demo.city import SITES
from gateway.demo.corpus import metadata
from gateway.demo.prose import articles_for
from services.kernel.chinese import normalize_doc_no
from services.search.analysis import Analyzer
from services.search.backends.base import IndexDoc
from services.search.identifiers import DECREE_IN_TEXT

SEED = 20261202
_RUN = re.compile(r"[0-9A-Za-z\u3400-\u9fff]+")
_BRACKETS = [("(", ")"), ("[", "]"), ("【", "】"), ("（", "）")]


@dataclass
class Labelled:
    kind: str  # fragment | decree | doc_no | combined
    q: str
    target: int  # the item the query was made from
    relevant: set[int]


def corpus_docs(rows: list[dict[str, Any]]) -> Iterator[IndexDoc]:
    """Corpus texts as the importer stores them: its 文号, abstract and issuer."""
    for n, row in enumerate(rows, start=1):
        meta = metadata(row)
        yield IndexDoc(
            id=n,
            resource_id=n,
            site="portal",
            sites=["portal"],
            title=row["title"],
            body=row["body"],
            summary=meta.get("abstract") or "",
            url=f"/i/{n}",
            doc_no=normalize_doc_no(meta["doc_no"]) if meta.get("doc_no") else None,
            org=meta["issuer_org"]["name"],
        )


def demo_docs(first_id: int) -> list[IndexDoc]:
    docs: list[IndexDoc] = []
    for index, site in enumerate(SITES):
        for article in articles_for(site, index):
            n = first_id + len(docs)
            docs.append(
                IndexDoc(
                    id=n,
                    resource_id=n,
                    site=site.code,
                    sites=[site.code],
                    title=article.title,
                    body="\n".join(article.paragraphs),
                    url=f"/i/{n}",
                    doc_no=normalize_doc_no(article.doc_no) if article.doc_no else None,
                    org=site.org_name,
                )
            )
    return docs


def fragment_queries(docs: list[IndexDoc], titles: int, rng: random.Random) -> list[Labelled]:
    by_title = [(d.id, d.title) for d in docs]
    out: list[Labelled] = []
    for doc_id, title in rng.sample(by_title, min(titles, len(by_title))):
        runs = [r for r in _RUN.findall(title) if len(r) >= 4]
        if not runs:
            continue
        run = rng.choice(runs)
        size = rng.randint(4, min(8, len(run)))
        start = rng.randint(0, len(run) - size)
        piece = run[start : start + size]
        holders = {i for i, t in by_title if piece in t}
        if len(holders) <= 10:
            out.append(Labelled("fragment", piece, doc_id, holders))
    return out


def _promulgation(row: dict[str, Any]) -> str | None:
    for event in row.get("events") or []:
        if ("公布" in event or "发布" in event) and (m := DECREE_IN_TEXT.search(event.split(" ", 1)[-1])):
            return m.group(0).replace("中华人民共和国", "").lstrip("中")
    return None


def decree_queries(rows: list[dict[str, Any]], limit: int, rng: random.Random) -> list[Labelled]:
    numbered: dict[str, set[int]] = {}
    for n, row in enumerate(rows, start=1):
        decree = _promulgation(row)
        if decree:
            numbered.setdefault(decree, set()).add(n)
    out: list[Labelled] = []
    for decree, ids in sorted(numbered.items()):
        typed = decree if rng.random() < 0.7 else f"中华人民共和国{decree}"
        out.append(Labelled("decree", typed, min(ids), ids))
    rng.shuffle(out)
    return out[:limit]


def doc_no_queries(docs: list[IndexDoc], limit: int, rng: random.Random) -> list[Labelled]:
    by_no: dict[str, set[int]] = {}
    for d in docs:
        if d.doc_no and "〔" in d.doc_no:
            by_no.setdefault(d.doc_no, set()).add(d.id)
    out = []
    for number, ids in sorted(by_no.items()):
        left, right = rng.choice(_BRACKETS)
        out.append(Labelled("doc_no", number.replace("〔", left).replace("〕", right), min(ids), ids))
    rng.shuffle(out)
    return out[:limit]


def combined_queries(
    rows: list[dict[str, Any]], analyzer: Analyzer, limit: int, rng: random.Random
) -> list[Labelled]:
    """Title words and the issuer (the decree's issuer and 令 when there is one)."""
    issuers: dict[int, str] = {}
    for n, row in enumerate(rows, start=1):
        decree = _promulgation(row)
        if decree:
            issuers[n] = decree[: decree.index("第")]
    out: list[Labelled] = []
    for n in rng.sample(sorted(issuers), min(limit, len(issuers))):
        words = analyzer.cut(rows[n - 1]["title"].replace("中华人民共和国", ""))
        if len(words) < 2:
            continue
        size = rng.randint(2, min(4, len(words)))
        start = rng.randint(0, len(words) - size)
        span = "".join(words[start : start + size])
        q = f"{span} {issuers[n]}"
        relevant = {
            i for i, issuer in issuers.items() if issuer == issuers[n] and span in rows[i - 1]["title"]
        }
        out.append(Labelled("combined", q, n, relevant | {n}))
    return out


def reciprocal_rank(ranked: list[int], relevant: set[int], k: int = 10) -> float:
    return next((1.0 / (i + 1) for i, d in enumerate(ranked[:k]) if d in relevant), 0.0)
