"""The interface every search engine implements, and what both engines index.

The engines never see user text: the service parses a query into tokens with the one
analyzer, and each backend builds its engine's query objects from those tokens
programmatically (no query-string parser), so syntax characters are just characters.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from services.search.analysis import Analyzer, ParsedQuery, bigrams, normalize
from services.search.identifiers import identifier_keys

ArchivedMode = Literal["exclude", "include", "only"]
# What a hit is: content's publication, or one of interaction's public items.
DocKind = Literal["publication", "consultation", "survey", "interview"]
# the union of interaction's public statuses of those items
ItemStatus = Literal["open", "closed", "feedback_published", "scheduled", "live", "ended", "archived"]
SortMode = Literal["relevance", "date"]

# How much a match in the title outweighs one in the body, and a phrase a scatter of words.
TITLE_BOOST = 3.0
SUB_WORD_WEIGHT = 0.6
TITLE_PHRASE_BOOST = 6.0
BODY_PHRASE_BOOST = 8.0
DOC_NO_BOOST = 20.0
# Bigram phrases recall what word boundaries miss; a title holding the typed characters
# verbatim is what a citizen copying part of a title is after.
FRAGMENT_TITLE_BOOST = 4.0
FRAGMENT_BODY_BOOST = 0.5
# An identifier found in a text (body, abstract) ranks it, its own 文号 ranks it first.
IDENTIFIER_BOOST = 5.0
# What a hit carries of its body: enough for the snippet of most matches. Loading whole
# bodies (a law runs to 100,000 characters) with every hit was the cost of a broad search;
# a snippet whose match lies further in reads that one body from search.db (`stored_bodies`).
BODY_HEAD_CHARS = 1000


@dataclass
class IndexDoc:
    """One publication as the engines store it (the stored part is what a hit shows)."""

    id: int
    resource_id: int
    site: str
    title: str
    body: str
    url: str
    sites: list[str] = field(default_factory=list)
    # every live placement of the resource: {"site", "site_name", "publication_id", "url"}
    placements: list[dict[str, Any]] = field(default_factory=list)
    site_name: str = ""
    column_id: int | None = None
    column_name: str = ""
    summary: str = ""
    doc_no: str | None = None
    index_no: str | None = None
    org: str | None = None
    genre: str | None = None
    topic: str | None = None
    kind: DocKind = "publication"
    # the interaction item's own status (open, closed, live …); None for publications
    item_status: ItemStatus | None = None
    published_at: datetime | None = None
    archived_at: datetime | None = None
    archived: bool = False
    # the one publication that stands for its resource in platform scope
    canonical: bool = True
    # set on a hit whose `body` is only the head of the text (more than BODY_HEAD_CHARS)
    body_cut: bool = False
    # search.db's revision of the row this document was projected from (None: interaction's
    # items, or an index written before hits carried it); keys the snippets kept per body
    revision: int | None = None

    def stored(self) -> dict[str, Any]:
        """What a hit shows: every field, the body cut to its head."""
        data = asdict(self)
        for key in ("published_at", "archived_at"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        if len(self.body.rstrip()) > BODY_HEAD_CHARS:
            data["body"] = self.body[:BODY_HEAD_CHARS]
            data["body_cut"] = True
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> IndexDoc:
        values = dict(data)
        for key in ("published_at", "archived_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})

    @property
    def published_ts(self) -> int:
        return int(self.published_at.timestamp()) if self.published_at else 0


@dataclass
class TokenFields:
    title: str
    title_sub: str
    body: str
    body_sub: str
    title_exact: str
    title_bi: str
    body_bi: str
    # identifier keys: of the metadata 文号 alone, and of everything the document says
    doc_nos: list[str]
    ids: list[str]


def own_identifiers(doc: IndexDoc) -> list[str]:
    if not doc.doc_no:
        return []
    keys = identifier_keys(doc.doc_no)
    return sorted(keys | {doc.doc_no})


def token_fields(doc: IndexDoc, analyzer: Analyzer) -> TokenFields:
    """The pre-analysed text both engines index with a plain whitespace tokenizer."""
    title = analyzer.analyze(doc.title)
    text = f"{doc.summary}\n{doc.body}" if doc.summary else doc.body
    normal = normalize(text)  # folded once for the words and the bigrams alike
    body = analyzer.analyze(normal, normalized=True)
    doc_nos = own_identifiers(doc)
    ids = set(doc_nos) | identifier_keys(doc.title) | identifier_keys(text)
    if doc.index_no:
        ids.add(doc.index_no)
    return TokenFields(
        title=" ".join(title.precise),
        title_sub=" ".join(title.sub),
        body=" ".join(body.precise),
        body_sub=" ".join(body.sub),
        title_exact=normalize(doc.title).strip(),
        title_bi=" ".join(bigrams(doc.title)),
        body_bi=" ".join(bigrams(normal, normalized=True)),
        doc_nos=doc_nos,
        ids=sorted(ids),
    )


@dataclass
class SearchRequest:
    query: ParsedQuery
    site: str | None = None
    platform: bool = False
    column_id: int | None = None
    genre: str | None = None
    topic: str | None = None
    org: str | None = None
    kind: DocKind | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    archived: ArchivedMode = "exclude"
    sort: SortMode = "relevance"
    offset: int = 0
    limit: int = 20


@dataclass
class Hit:
    doc: IndexDoc
    score: float


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]


class Rebuild(abc.ABC):
    """A fresh index filled beside the live one, then swapped in at once."""

    @abc.abstractmethod
    async def add(self, docs: list[IndexDoc]) -> None: ...

    @abc.abstractmethod
    async def finish(self) -> None:
        """Make the new index the live one and drop the old one."""

    @abc.abstractmethod
    async def abort(self) -> None: ...


class SearchBackend(abc.ABC):
    name: str = "backend"
    # Set by `open` when the live index was built for another schema (fields added since) and
    # an empty one took its place: everything recorded must be projected into it again.
    schema_reset: bool = False

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> dict[str, Any]:
        """Raise when the engine cannot answer; return details for /readyz."""

    @abc.abstractmethod
    async def upsert(self, docs: list[IndexDoc]) -> None:
        """Insert or replace by id; becomes searchable after `commit`."""

    @abc.abstractmethod
    async def delete(self, ids: list[int]) -> None: ...

    @abc.abstractmethod
    async def commit(self) -> None:
        """Make every write so far durable and visible to searches."""

    @abc.abstractmethod
    async def generation(self) -> str:
        """Which physical index is live; it changes when a rebuild swaps one in."""

    @abc.abstractmethod
    async def search(self, request: SearchRequest) -> SearchResult: ...

    @abc.abstractmethod
    async def suggest(self, text: str, tokens: list[str], site: str | None, limit: int) -> list[str]:
        """Titles that start with `text`, then titles whose words begin with `tokens`."""

    @abc.abstractmethod
    async def ids(self) -> set[int]:
        """Every indexed publication id (for audits and tests; not for hot paths)."""

    @abc.abstractmethod
    async def start_rebuild(self) -> Rebuild: ...
