"""The embedded engine: tantivy, an index folder beside the search service's database.

Layout: `<root>/CURRENT` names the live index folder (`gen-<stamp>`); a rebuild fills a new
folder and replaces CURRENT atomically (write + rename), so readers switch between two
complete indexes and never see a half-built one. Every process checks CURRENT before it reads
or writes, which is how a running service follows a `jiyue search reindex` made elsewhere.
The previous generation is kept until the next swap because a writer in another process may
still be finishing its last commit there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import tantivy
from tantivy import Occur, Query

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
from services.search.backends.tantivy_queries import QueryBuilder, phrase, regex_escape

POINTER = "CURRENT"
log = logging.getLogger("jiyue.search.tantivy")


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_integer_field("resource_id", indexed=True)
    sb.add_integer_field("column_id", indexed=True)
    sb.add_integer_field("published", indexed=True, fast=True)
    sb.add_integer_field("archived", indexed=True)
    sb.add_integer_field("canonical", indexed=True)
    keywords = (
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
    for keyword in keywords:
        sb.add_text_field(keyword, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("title_sub", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("body_sub", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("title_bi", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("body_bi", tokenizer_name="whitespace", index_option="position")
    sb.add_bytes_field("stored", stored=True, indexed=False)
    return sb.build()


def _stored(document: Any) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(bytes(document.get_first("stored")))
    return data


class _Generation:
    """One opened index folder: its index, and a writer opened on first write."""

    def __init__(self, path: Path, schema: tantivy.Schema, heap: int) -> None:
        self.path = path
        self.schema = schema
        self.heap = heap
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(schema, path=str(path))
        self._writer: Any = None

    @property
    def writer(self) -> Any:
        if self._writer is None:
            self._writer = self.index.writer(self.heap, 1)
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            # No rollback first: it cancels running merges, whose half-written segments then
            # stay in the folder unlisted. Dropping the writer still discards uncommitted docs.
            self._writer.wait_merging_threads()
            self._writer = None
            self._collect_orphans()

    def _collect_orphans(self) -> None:
        # Merges that finish after the last commit leave segment files that no meta.json lists
        # (about half the index folder after a corpus import). This Index's own readers would
        # protect them from its writer's collection, so a fresh Index on the folder does it.
        fresh = tantivy.Index(self.schema, path=str(self.path))
        writer = fresh.writer(15_000_000, 1)
        writer.garbage_collect_files()
        writer.rollback()
        writer.wait_merging_threads()


class TantivyBackend(SearchBackend):
    name = "tantivy"

    def __init__(self, root: Path, analyzer: Analyzer, *, writer_heap: int = 128_000_000) -> None:
        self.root = root
        self.analyzer = analyzer
        self.schema = build_schema()
        self.queries = QueryBuilder(self.schema)
        self.heap = writer_heap
        self._gen: _Generation | None = None
        self._pointer_mtime: float = -1.0
        # tantivy objects are used from worker threads; one at a time keeps the writer sane.
        self._lock = threading.RLock()

    # -- generations ------------------------------------------------------------------

    def _read_pointer(self) -> str | None:
        try:
            return (self.root / POINTER).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _write_pointer(self, name: str) -> None:
        tmp = self.root / f".{POINTER}.{uuid.uuid4().hex}"
        with open(tmp, "w") as fh:
            fh.write(name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / POINTER)

    def _current(self) -> _Generation:
        """The live generation, reopened when another process swapped one in."""
        with self._lock:
            try:
                mtime = (self.root / POINTER).stat().st_mtime_ns
            except FileNotFoundError:
                mtime = -1
            if self._gen is not None and mtime == self._pointer_mtime:
                return self._gen
            name = self._read_pointer()
            if name is None:
                name = self._new_name()
                _Generation(self.root / name, self.schema, self.heap)
                self._write_pointer(name)
                mtime = (self.root / POINTER).stat().st_mtime_ns
            if self._gen is None or self._gen.path.name != name:
                if self._gen is not None:
                    self._gen.close()
                try:
                    self._gen = _Generation(self.root / name, self.schema, self.heap)
                except ValueError as exc:
                    if "schema does not match" not in str(exc):
                        raise
                    log.warning("index %s has an older schema: starting an empty one to refill", name)
                    name = self._new_name()
                    self._gen = _Generation(self.root / name, self.schema, self.heap)
                    self._write_pointer(name)
                    mtime = (self.root / POINTER).stat().st_mtime_ns
                    self.schema_reset = True
            self._pointer_mtime = mtime
            return self._gen

    def _new_name(self) -> str:
        return f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"

    def _collect_garbage(self, keep: set[str]) -> None:
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)

    # -- lifecycle --------------------------------------------------------------------

    async def open(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self._current)

    async def close(self) -> None:
        with self._lock:
            if self._gen is not None:
                await asyncio.to_thread(self._gen.close)
                self._gen = None

    async def ping(self) -> dict[str, Any]:
        def run() -> int:
            searcher = self._current().index.searcher()
            query = Query.all_query()
            return int(getattr(searcher.search(query, limit=1, count=True), "count", 0) or 0)

        return {"backend": self.name, "documents": await asyncio.to_thread(run)}

    async def generation(self) -> str:
        return (await asyncio.to_thread(self._current)).path.name

    # -- writes -----------------------------------------------------------------------

    def _document(self, doc: IndexDoc, stored: dict[str, Any]) -> tantivy.Document:
        fields = token_fields(doc, self.analyzer)
        out = tantivy.Document()
        out.add_integer("id", doc.id)
        out.add_integer("resource_id", doc.resource_id)
        out.add_integer("column_id", doc.column_id or 0)
        out.add_integer("published", doc.published_ts)
        out.add_integer("archived", int(doc.archived))
        out.add_integer("canonical", int(doc.canonical))
        out.add_text("site", doc.site)
        for site in doc.sites or [doc.site]:
            out.add_text("sites", site)
        for name, value in (
            ("genre", doc.genre),
            ("topic", doc.topic),
            ("org", doc.org),
            ("index_no", doc.index_no),
            ("doc_kind", doc.kind),
        ):
            if value:
                out.add_text(name, value)
        for key in fields.doc_nos:
            out.add_text("doc_no", key)
        for key in fields.ids:
            out.add_text("ids", key)
        out.add_text("title_exact", fields.title_exact)
        out.add_text("title", fields.title)
        out.add_text("title_sub", fields.title_sub)
        out.add_text("body", fields.body)
        out.add_text("body_sub", fields.body_sub)
        out.add_text("title_bi", fields.title_bi)
        out.add_text("body_bi", fields.body_bi)
        out.add_bytes("stored", orjson.dumps(stored))
        return out

    def _write(self, gen: _Generation, docs: list[IndexDoc]) -> None:
        prepared = [(doc.id, self._document(doc, doc.stored())) for doc in docs]  # analyse outside the lock
        with self._lock:
            writer = gen.writer
            for doc_id, document in prepared:
                writer.delete_documents_by_term("id", doc_id)
                writer.add_document(document)

    async def upsert(self, docs: list[IndexDoc]) -> None:
        if docs:
            gen = await asyncio.to_thread(self._current)
            await asyncio.to_thread(self._write, gen, docs)

    async def delete(self, ids: list[int]) -> None:
        def run() -> None:
            with self._lock:
                writer = self._current().writer
                for doc_id in ids:
                    writer.delete_documents_by_term("id", doc_id)

        if ids:
            await asyncio.to_thread(run)

    async def commit(self) -> None:
        def run() -> None:
            with self._lock:
                gen = self._current()
                gen.writer.commit()
                gen.index.reload()

        await asyncio.to_thread(run)

    def _run_search(self, request: SearchRequest) -> SearchResult:
        gen = self._current()
        text = self.queries.text_query(request)
        clauses = [(Occur.Must, text)] + [
            (Occur.Must, Query.const_score_query(f, 0.0)) for f in self.queries.filters(request)
        ]
        query = Query.boolean_query(clauses)
        searcher = gen.index.searcher()
        kwargs: dict[str, Any] = {"limit": request.limit, "offset": request.offset, "count": True}
        if request.sort == "date":
            kwargs["order_by_field"] = "published"
        result = searcher.search(query, **kwargs)
        hits = []
        for key, address in result.hits:
            score = float(key) if request.sort == "relevance" else 0.0
            hits.append(Hit(doc=IndexDoc.from_stored(_stored(searcher.doc(address))), score=score))
        return SearchResult(total=int(getattr(result, "count", 0) or 0), hits=hits)

    async def search(self, request: SearchRequest) -> SearchResult:
        return await asyncio.to_thread(self._run_search, request)

    def _run_suggest(self, text: str, tokens: list[str], site: str | None, limit: int) -> list[str]:
        gen = self._current()
        searcher = gen.index.searcher()
        scope: list[tuple[Occur, Query]] = [
            (Occur.Must, Query.const_score_query(self.queries.term("archived", 0), 0.0))
        ]
        if site:
            scope.append((Occur.Must, Query.const_score_query(self.queries.term("site", site), 0.0)))
        candidates: list[Query] = []
        prefix = normalize(text).strip()
        if prefix:
            regex = Query.regex_query(self.schema, "title_exact", regex_escape(prefix) + ".*")
            candidates.append(Query.boost_query(regex, 10.0))
        if tokens:
            candidates.append(Query.phrase_prefix_query(self.schema, "title", phrase(tokens)))
        out: list[str] = []
        for candidate in candidates:
            query = Query.boolean_query([(Occur.Must, candidate), *scope])
            for _score, address in searcher.search(query, limit=limit * 3, count=False).hits:
                title = str(_stored(searcher.doc(address))["title"])
                if title not in out:
                    out.append(title)
                if len(out) >= limit:
                    return out
        return out

    async def suggest(self, text: str, tokens: list[str], site: str | None, limit: int) -> list[str]:
        return await asyncio.to_thread(self._run_suggest, text, tokens, site, limit)

    async def ids(self) -> set[int]:
        def run() -> set[int]:
            searcher = self._current().index.searcher()
            total = searcher.num_docs
            if not total:
                return set()
            hits = searcher.search(Query.all_query(), limit=total, count=False).hits
            return {int(searcher.doc(addr).get_first("id") or 0) for _s, addr in hits}

        return await asyncio.to_thread(run)

    async def start_rebuild(self) -> Rebuild:
        self.root.mkdir(parents=True, exist_ok=True)
        name = self._new_name()
        gen = await asyncio.to_thread(_Generation, self.root / name, self.schema, self.heap)
        return _TantivyRebuild(self, gen)


class _TantivyRebuild(Rebuild):
    def __init__(self, backend: TantivyBackend, gen: _Generation) -> None:
        self.backend = backend
        self.gen = gen

    async def add(self, docs: list[IndexDoc]) -> None:
        await asyncio.to_thread(self.backend._write, self.gen, docs)

    async def finish(self) -> None:
        backend = self.backend

        def run() -> None:
            self.gen.writer.commit()
            self.gen.writer.wait_merging_threads()
            self.gen._writer = None
            previous = backend._read_pointer()
            backend._write_pointer(self.gen.path.name)
            backend._collect_garbage({self.gen.path.name, *([previous] if previous else [])})

        await asyncio.to_thread(run)

    async def abort(self) -> None:
        def run() -> None:
            self.gen.close()
            shutil.rmtree(self.gen.path, ignore_errors=True)

        await asyncio.to_thread(run)
