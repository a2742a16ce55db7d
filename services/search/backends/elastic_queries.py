"""Elasticsearch query bodies built from the analyzer's tokens (no query-string parser).

The twin of `tantivy_queries.py`: the same clauses, boosts and filters, in the Query DSL.
"""

from __future__ import annotations

from typing import Any

from services.search.backends.base import (
    BODY_PHRASE_BOOST,
    DOC_NO_BOOST,
    FRAGMENT_BODY_BOOST,
    FRAGMENT_TITLE_BOOST,
    IDENTIFIER_BOOST,
    SUB_WORD_WEIGHT,
    TITLE_BOOST,
    TITLE_PHRASE_BOOST,
    SearchRequest,
)


def _term(field: str, value: Any, boost: float = 1.0) -> dict[str, Any]:
    return {"term": {field: {"value": value, "boost": boost}}}


def _phrase(field: str, tokens: list[str], boost: float = 1.0) -> dict[str, Any]:
    return {"match_phrase": {field: {"query": " ".join(tokens), "boost": boost}}}


def _alternative(tokens: list[str]) -> dict[str, Any]:
    if len(tokens) == 1:
        token = tokens[0]
        should = [
            _term("title", token, TITLE_BOOST),
            _term("title_sub", token, TITLE_BOOST * SUB_WORD_WEIGHT),
            _term("body", token),
            _term("body_sub", token, SUB_WORD_WEIGHT),
        ]
    else:
        should = [_phrase("title", tokens, TITLE_BOOST), _phrase("body", tokens)]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _bigram_phrase(field: str, grams: list[str], boost: float) -> dict[str, Any]:
    return _term(field, grams[0], boost) if len(grams) == 1 else _phrase(field, grams, boost)


def _fragments(fragments: list[list[str]]) -> dict[str, Any]:
    """Every typed part, as a bigram phrase, in the title or the body."""
    must = [
        {
            "bool": {
                "should": [
                    _bigram_phrase("title_bi", grams, FRAGMENT_TITLE_BOOST),
                    _bigram_phrase("body_bi", grams, FRAGMENT_BODY_BOOST),
                ],
                "minimum_should_match": 1,
            }
        }
        for grams in fragments
    ]
    return {"bool": {"must": must}}


def _identifier(key: str) -> dict[str, Any]:
    """Only texts carrying the identifier; the one whose own 文号 it is first."""
    return {"bool": {"must": [_term("ids", key)], "should": [_term("doc_no", key, DOC_NO_BOOST)]}}


def text_query(request: SearchRequest) -> dict[str, Any]:
    parsed = request.query
    if parsed.doc_no:
        return _identifier(parsed.doc_no)
    clauses: list[dict[str, Any]] = []
    if parsed.words:
        must = [
            {
                "bool": {
                    "should": [_alternative(alt) for alt in clause.alternatives],
                    "minimum_should_match": 1,
                }
            }
            for clause in parsed.words
        ]
        should: list[dict[str, Any]] = []
        if len(parsed.phrase) > 1:
            should.append(_phrase("title", parsed.phrase, TITLE_PHRASE_BOOST))
            should.append(_phrase("body", parsed.phrase, BODY_PHRASE_BOOST))
        clauses.append({"bool": {"must": must, "should": should}})
    if parsed.fragments:
        clauses.append(_fragments(parsed.fragments))
    for key in parsed.identifiers:
        clauses.append(_term("doc_no", key, DOC_NO_BOOST))
        clauses.append(_term("ids", key, IDENTIFIER_BOOST))
    if parsed.index_no:
        clauses.append(_term("index_no", parsed.index_no, DOC_NO_BOOST))
    if not clauses:
        return {"match_none": {}}
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def filters(request: SearchRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if request.platform:
        out.append({"term": {"canonical": True}})
        if request.site:
            out.append({"term": {"sites": request.site}})
    elif request.site:
        out.append({"term": {"site": request.site}})
    if request.column_id is not None:
        out.append({"term": {"column_id": request.column_id}})
    for field, value in (
        ("genre", request.genre),
        ("topic", request.topic),
        ("org", request.org),
        ("doc_kind", request.kind),
    ):
        if value:
            out.append({"term": {field: value}})
    if request.date_from or request.date_to:
        bounds: dict[str, int] = {}
        if request.date_from:
            bounds["gte"] = int(request.date_from.timestamp())
        if request.date_to:
            bounds["lte"] = int(request.date_to.timestamp())
        out.append({"range": {"published": bounds}})
    if request.archived != "include":
        out.append({"term": {"archived": request.archived == "only"}})
    return out
