"""Elasticsearch: the scale-out engine, through the official async client.

Text arrives pre-analysed (the analyzer's tokens joined by spaces, already lower-cased) and is
indexed with the built-in `whitespace` analyzer, which every distribution has, so no analysis
plugin is needed and both engines see exactly the same tokens. Writes go through an alias; a rebuild
fills a new versioned index and moves the alias in one atomic `_aliases` call.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from elastic_transport import HttpxAsyncHttpNode
from elasticsearch import AsyncElasticsearch, NotFoundError

from services.search.analysis import Analyzer, normalize
from services.search.backends.base import (
    Hit,
    IndexDoc,
    Rebuild,
    SearchBackend,
    SearchRequest,
    SearchResult,
    token_fields,
)
from services.search.backends.elastic_queries import filters, text_query

_TEXT = {"type": "text", "analyzer": "whitespace"}
_SUB_TEXT = {"type": "text", "analyzer": "whitespace", "index_options": "freqs"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_source": {"excludes": ["title", "title_sub", "body", "body_sub", "title_bi", "body_bi", "ids"]},
    "properties": {
        "id": {"type": "long"},
        "resource_id": {"type": "long"},
        "column_id": {"type": "long"},
        "published": {"type": "long"},
        "archived": {"type": "boolean"},
        "canonical": {"type": "boolean"},
        **{
            name: {"type": "keyword"}
            for name in (
                "site",
                "sites",
                "genre",
                "topic",
                "org",
                "doc_no",
                "ids",
                "index_no",
                "title_exact",
                "doc_kind",
            )
        },
        "title": _TEXT,
        "body": _TEXT,
        "title_sub": _SUB_TEXT,
        "body_sub": _SUB_TEXT,
        "title_bi": _TEXT,
        "body_bi": _TEXT,
        "stored": {"type": "object", "enabled": False},
    },
}
INDEX_SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}


class ElasticBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, url: str, prefix: str, analyzer: Analyzer) -> None:
        self.url = url
        self.prefix = prefix
        self.alias = f"{prefix}-documents"
        self.analyzer = analyzer
        self.client: AsyncElasticsearch | None = None

    @property
    def es(self) -> AsyncElasticsearch:
        if self.client is None:
            self.client = AsyncElasticsearch(self.url, request_timeout=30, node_class=HttpxAsyncHttpNode)
        return self.client

    def _new_index_name(self) -> str:
        return f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"

    async def _create_index(self, name: str) -> None:
        await self.es.indices.create(index=name, settings=INDEX_SETTINGS, mappings=MAPPINGS)

    async def open(self) -> None:
        await self.es.indices.put_index_template(
            name=self.alias,
            index_patterns=[f"{self.alias}-*"],
            template={"settings": INDEX_SETTINGS, "mappings": MAPPINGS},
        )
        if not await self.es.indices.exists_alias(name=self.alias):
            name = self._new_index_name()
            await self._create_index(name)
            await self.es.indices.put_alias(index=name, name=self.alias)
            return
        mappings = (await self.es.indices.get_mapping(index=self.alias)).body
        if any(
            set(MAPPINGS["properties"]) - set(body["mappings"].get("properties", {}))
            for body in mappings.values()
        ):
            # Built before fields were added (strict mapping would refuse every write).
            rebuild = await self.start_rebuild()
            await rebuild.finish()
            self.schema_reset = True

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def ping(self) -> dict[str, Any]:
        # `GET /` is not served by every distribution; cluster health is.
        health = await self.es.cluster.health()
        if health["status"] == "red":
            raise RuntimeError("Elasticsearch cluster is red")
        return {"backend": self.name, "cluster": health["status"]}

    async def generation(self) -> str:
        aliases = await self.es.indices.get_alias(name=self.alias)
        return ",".join(sorted(aliases.body))

    def _source(self, doc: IndexDoc) -> dict[str, Any]:
        fields = token_fields(doc, self.analyzer)
        stored = doc.stored()
        return {
            "id": doc.id,
            "resource_id": doc.resource_id,
            "column_id": doc.column_id or 0,
            "published": doc.published_ts,
            "archived": doc.archived,
            "canonical": doc.canonical,
            "site": doc.site,
            "sites": doc.sites or [doc.site],
            "genre": doc.genre,
            "topic": doc.topic,
            "doc_kind": doc.kind,
            "org": doc.org,
            "doc_no": fields.doc_nos,
            "ids": fields.ids,
            "index_no": doc.index_no,
            "title_exact": fields.title_exact,
            "title": fields.title,
            "title_sub": fields.title_sub,
            "body": fields.body,
            "body_sub": fields.body_sub,
            "title_bi": fields.title_bi,
            "body_bi": fields.body_bi,
            "stored": stored,
        }

    async def _bulk(self, operations: list[dict[str, Any]]) -> None:
        if not operations:
            return
        response = await self.es.bulk(operations=operations)
        if response.get("errors"):
            failures = [
                item
                for item in response["items"]
                for action, result in item.items()
                if result.get("status", 200) >= 300
                and not (action == "delete" and result.get("status") == 404)
            ]
            if failures:
                raise RuntimeError(f"Elasticsearch bulk write failed: {str(failures[0])[:300]}")

    async def _write(self, index: str, docs: list[IndexDoc]) -> None:
        operations: list[dict[str, Any]] = []
        for doc in docs:
            operations.append({"index": {"_index": index, "_id": str(doc.id)}})
            operations.append(self._source(doc))
        await self._bulk(operations)

    async def upsert(self, docs: list[IndexDoc]) -> None:
        await self._write(self.alias, docs)

    async def delete(self, ids: list[int]) -> None:
        await self._bulk([{"delete": {"_index": self.alias, "_id": str(i)}} for i in ids])

    async def commit(self) -> None:
        await self.es.indices.refresh(index=self.alias)

    async def search(self, request: SearchRequest) -> SearchResult:
        body: dict[str, Any] = {
            "query": {"bool": {"must": [text_query(request)], "filter": filters(request)}},
            "from": request.offset,
            "size": request.limit,
            "track_total_hits": True,
            "source_includes": ["stored"],
        }
        if request.sort == "date":
            body["sort"] = [{"published": "desc"}, {"id": "desc"}]
        response = await self.es.search(index=self.alias, **body)
        hits = [
            Hit(doc=IndexDoc.from_stored(h["_source"]["stored"]), score=float(h.get("_score") or 0.0))
            for h in response["hits"]["hits"]
        ]
        return SearchResult(total=int(response["hits"]["total"]["value"]), hits=hits)

    async def suggest(self, text: str, tokens: list[str], site: str | None, limit: int) -> list[str]:
        scope: list[dict[str, Any]] = [{"term": {"archived": False}}]
        if site:
            scope.append({"term": {"site": site}})
        out: list[str] = []
        candidates: list[dict[str, Any]] = []
        prefix = normalize(text).strip()
        if prefix:
            candidates.append({"prefix": {"title_exact": {"value": prefix}}})
        if tokens:
            candidates.append({"match_phrase_prefix": {"title": {"query": " ".join(tokens)}}})
        for candidate in candidates:
            response = await self.es.search(
                index=self.alias,
                query={"bool": {"must": [candidate], "filter": scope}},
                size=limit * 3,
                source_includes=["stored.title"],
            )
            for hit in response["hits"]["hits"]:
                title = str(hit["_source"]["stored"]["title"])
                if title not in out:
                    out.append(title)
                if len(out) >= limit:
                    return out
        return out

    async def ids(self) -> set[int]:
        out: set[int] = set()
        after: list[Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "size": 1000,
                "sort": [{"id": "asc"}],
                "_source": False,
                "docvalue_fields": ["id"],
            }
            if after is not None:
                kwargs["search_after"] = after
            response = await self.es.search(index=self.alias, query={"match_all": {}}, **kwargs)
            hits = response["hits"]["hits"]
            if not hits:
                return out
            out.update(int(h["_id"]) for h in hits)
            after = hits[-1]["sort"]

    async def start_rebuild(self) -> Rebuild:
        name = self._new_index_name()
        await self._create_index(name)
        return _ElasticRebuild(self, name)

    async def drop_all(self) -> None:
        """Remove this prefix's indices and template (tests use a prefix per run)."""
        try:
            aliases = await self.es.indices.get_alias(name=self.alias)
            for index in aliases.body:
                await self.es.indices.delete(index=index)
        except NotFoundError:
            pass
        try:
            await self.es.indices.delete_index_template(name=self.alias)
        except NotFoundError:
            pass


class _ElasticRebuild(Rebuild):
    def __init__(self, backend: ElasticBackend, index: str) -> None:
        self.backend = backend
        self.index = index

    async def add(self, docs: list[IndexDoc]) -> None:
        await self.backend._write(self.index, docs)

    async def finish(self) -> None:
        es = self.backend.es
        alias = self.backend.alias
        await es.indices.refresh(index=self.index)
        try:
            old = list((await es.indices.get_alias(name=alias)).body)
        except NotFoundError:
            old = []
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in old]
        actions.append({"add": {"index": self.index, "alias": alias}})
        await es.indices.update_aliases(actions=actions)
        for index in old:
            await es.indices.delete(index=index)

    async def abort(self) -> None:
        await self.backend.es.indices.delete(index=self.index, ignore_unavailable=True)
