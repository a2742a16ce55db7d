"""How a parsed search request becomes a tantivy query: relevance clauses and filters.

Kept apart from the backend's index management so that the ranking rules (title boost,
phrase boost, sub-word weight, exact 文号) read in one place.
"""

from __future__ import annotations

from typing import Any

import tantivy
from tantivy import Occur, Query

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

_REGEX_META = set("\\.+*?()|[]{}^$#&-~")


def phrase(tokens: list[str]) -> list[str | tuple[int, str]]:
    return list(tokens)


def regex_escape(text: str) -> str:
    return "".join(f"\\{ch}" if ch in _REGEX_META else ch for ch in text)


class QueryBuilder:
    def __init__(self, schema: tantivy.Schema) -> None:
        self.schema = schema

    def term(self, field: str, value: Any, boost: float = 1.0) -> Query:
        q = Query.term_query(self.schema, field, value)
        return Query.boost_query(q, boost) if boost != 1.0 else q

    def alternative(self, tokens: list[str]) -> Query:
        if len(tokens) == 1:
            token = tokens[0]
            return Query.boolean_query(
                [
                    (Occur.Should, self.term("title", token, TITLE_BOOST)),
                    (Occur.Should, self.term("title_sub", token, TITLE_BOOST * SUB_WORD_WEIGHT)),
                    (Occur.Should, self.term("body", token)),
                    (Occur.Should, self.term("body_sub", token, SUB_WORD_WEIGHT)),
                ]
            )
        return Query.boolean_query(
            [
                (
                    Occur.Should,
                    Query.boost_query(Query.phrase_query(self.schema, "title", phrase(tokens)), TITLE_BOOST),
                ),
                (Occur.Should, Query.phrase_query(self.schema, "body", phrase(tokens))),
            ]
        )

    def _bigram_phrase(self, field: str, grams: list[str], boost: float) -> Query:
        if len(grams) == 1:
            return self.term(field, grams[0], boost)
        return Query.boost_query(Query.phrase_query(self.schema, field, phrase(grams)), boost)

    def fragments(self, fragments: list[list[str]]) -> Query:
        """Every typed part, as a bigram phrase, in the title or the body."""
        return Query.boolean_query(
            [
                (
                    Occur.Must,
                    Query.boolean_query(
                        [
                            (Occur.Should, self._bigram_phrase("title_bi", grams, FRAGMENT_TITLE_BOOST)),
                            (Occur.Should, self._bigram_phrase("body_bi", grams, FRAGMENT_BODY_BOOST)),
                        ]
                    ),
                )
                for grams in fragments
            ]
        )

    def identifier(self, key: str) -> Query:
        """Only texts carrying the identifier; the one whose own 文号 it is first."""
        return Query.boolean_query(
            [
                (Occur.Must, self.term("ids", key)),
                (Occur.Should, self.term("doc_no", key, DOC_NO_BOOST)),
            ]
        )

    def text_query(self, request: SearchRequest) -> Query:
        parsed = request.query
        if parsed.doc_no:
            return self.identifier(parsed.doc_no)
        clauses: list[tuple[Occur, Query]] = []
        if parsed.words:
            words = [
                (
                    Occur.Must,
                    Query.boolean_query(
                        [(Occur.Should, self.alternative(alt)) for alt in clause.alternatives]
                    ),
                )
                for clause in parsed.words
            ]
            if len(parsed.phrase) > 1:
                whole = parsed.phrase
                words.append(
                    (
                        Occur.Should,
                        Query.boost_query(
                            Query.phrase_query(self.schema, "title", phrase(whole)), TITLE_PHRASE_BOOST
                        ),
                    )
                )
                words.append(
                    (
                        Occur.Should,
                        Query.boost_query(
                            Query.phrase_query(self.schema, "body", phrase(whole)), BODY_PHRASE_BOOST
                        ),
                    )
                )
            clauses.append((Occur.Should, Query.boolean_query(words)))
        if parsed.fragments:
            clauses.append((Occur.Should, self.fragments(parsed.fragments)))
        for key in parsed.identifiers:
            clauses.append((Occur.Should, self.term("doc_no", key, DOC_NO_BOOST)))
            clauses.append((Occur.Should, self.term("ids", key, IDENTIFIER_BOOST)))
        if parsed.index_no:
            clauses.append((Occur.Should, self.term("index_no", parsed.index_no, DOC_NO_BOOST)))
        if not clauses:
            return Query.empty_query()
        return Query.boolean_query(clauses)

    def filters(self, request: SearchRequest) -> list[Query]:
        filters: list[Query] = []
        if request.platform:
            filters.append(self.term("canonical", 1))
            if request.site:
                filters.append(self.term("sites", request.site))
        elif request.site:
            filters.append(self.term("site", request.site))
        if request.column_id is not None:
            filters.append(self.term("column_id", request.column_id))
        for field, value in (
            ("genre", request.genre),
            ("topic", request.topic),
            ("org", request.org),
            ("doc_kind", request.kind),
        ):
            if value:
                filters.append(self.term(field, value))
        if request.date_from or request.date_to:
            lo = int(request.date_from.timestamp()) if request.date_from else None
            hi = int(request.date_to.timestamp()) if request.date_to else None
            filters.append(Query.range_query(self.schema, "published", tantivy.FieldType.Integer, lo, hi))
        if request.archived != "include":
            filters.append(self.term("archived", 1 if request.archived == "only" else 0))
        return filters
