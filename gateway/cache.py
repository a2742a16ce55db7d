"""Conditional requests and the in-process response cache for public delivery and search.

Entries are partitioned by site through a generation number: content's change feed bumps a
site's generation and every entry of the older generation becomes a miss at once, without
walking the cache. A response computed while the generation moved is never stored.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from cachetools import TLRUCache

DELIVERY = "delivery"
SEARCH = "search"

_CONTENT = "/api/content/v1/"
_CONTENT_EXACT = frozenset({"/api/content/v1/site", "/api/content/v1/columns"})
# The query parameters each cacheable route declares (tests hold this to the services' OpenAPI):
# a key is made of these alone, so `?x=1`, `?x=2`, … are one entry, not one each.
_NO_PARAMS: frozenset[str] = frozenset()
_COLUMN_ITEMS_PARAMS = frozenset({"page", "size"})
_SEARCH_PARAMS = {
    "/api/search/v1/search": frozenset(
        {
            "q",
            "scope",
            "column",
            "genre",
            "topic",
            "org",
            "kind",
            "from",
            "to",
            "sort",
            "archived",
            "page",
            "size",
        }
    ),
    "/api/search/v1/suggest": frozenset({"q", "size"}),
}
# Headers that describe one exchange, not the resource.
_NOT_STORED = frozenset({b"x-request-id", b"date", b"set-cookie", b"content-length", b"server"})
# Directives by which a service says its answer must not be served from a shared cache
# without asking it again (attachments: `public, no-cache` + ETag, so takedowns are immediate).
_UNCACHEABLE = frozenset({"no-cache", "no-store", "private"})
# What an entry costs beyond its body and headers (the key, the objects around them).
_ENTRY_OVERHEAD = 512

CacheKey = tuple[str, str, bytes, bytes]


@dataclass(frozen=True, slots=True)
class CacheRoute:
    kind: str
    params: frozenset[str]


def cache_route(path: str) -> CacheRoute | None:
    """Which public GET this is, if its answer may be cached and revalidated."""
    if path.startswith(_CONTENT):
        if path in _CONTENT_EXACT:
            return CacheRoute(DELIVERY, _NO_PARAMS)
        rest = path[len(_CONTENT) :]
        if rest.startswith("items/") and rest.count("/") == 1 and len(rest) > 6:
            return CacheRoute(DELIVERY, _NO_PARAMS)
        if rest.startswith("columns/") and rest.endswith("/items") and rest.count("/") == 2:
            return CacheRoute(DELIVERY, _COLUMN_ITEMS_PARAMS)
        return None
    params = _SEARCH_PARAMS.get(path)
    return CacheRoute(SEARCH, params) if params is not None else None


def cache_kind(path: str) -> str | None:
    route = cache_route(path)
    return route.kind if route is not None else None


def normalise_query(query: bytes, declared: frozenset[str]) -> bytes:
    """The declared parameters only, sorted by name (repeats keep their order)."""
    if not query:
        return b""
    text = query.decode("latin-1")
    pairs = [(k, v) for k, v in parse_qsl(text, keep_blank_values=True, encoding="latin-1") if k in declared]
    pairs.sort(key=lambda kv: kv[0])
    return urlencode(pairs, encoding="latin-1").encode("latin-1")


def storable(headers: list[tuple[bytes, bytes]]) -> bool:
    """False when the service's Cache-Control forbids a shared cache to answer for it."""
    for key, value in headers:
        if key == b"cache-control":
            directives = {d.split("=", 1)[0].strip().lower() for d in value.decode("latin-1").split(",")}
            if directives & _UNCACHEABLE:
                return False
        elif key == b"set-cookie":
            return False
    return True


def make_etag(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison (RFC 9110 13.1.2): W/ prefixes do not matter for If-None-Match."""
    if if_none_match.strip() == b"*":
        return True
    bare = etag[2:] if etag.startswith(b"W/") else etag
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate.startswith(b"W/"):
            candidate = candidate[2:]
        if candidate == bare:
            return True
    return False


def storable_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k not in _NOT_STORED]


@dataclass(slots=True)
class Entry:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes
    generation: int
    expires: float


def entry_size(entry: Entry) -> int:
    return len(entry.body) + sum(len(k) + len(v) for k, v in entry.headers) + _ENTRY_OVERHEAD


class ResponseCache:
    def __init__(self, *, max_bytes: int, max_body: int, ttl: float, search_ttl: float) -> None:
        self.max_bytes = max_bytes
        self.max_body = min(max_body, max_bytes // 4)
        self.ttl = ttl
        self.search_ttl = search_ttl
        self._entries: TLRUCache[CacheKey, Entry] = TLRUCache(
            maxsize=max_bytes,
            ttu=lambda _k, entry, _now: entry.expires,
            timer=time.monotonic,
            getsizeof=entry_size,
        )
        self._generations: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    @property
    def size_bytes(self) -> int:
        return int(self._entries.currsize)

    def generation(self, site: str) -> int:
        return self._generations.get(site, 0)

    def get(self, key: CacheKey) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if entry.generation != self._generations.get(key[0], 0):
            del self._entries[key]
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(
        self,
        key: CacheKey,
        kind: str,
        generation: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        etag: bytes,
    ) -> bool:
        if len(body) > self.max_body or generation != self._generations.get(key[0], 0):
            return False
        if not storable(headers):
            return False
        ttl = self.search_ttl if kind == SEARCH else self.ttl
        self._entries[key] = Entry(storable_headers(headers), body, etag, generation, time.monotonic() + ttl)
        return True

    def invalidate_site(self, site: str | None) -> None:
        """Drop a site's entries; None (a platform-wide change) drops everything."""
        if site is None:
            self._entries.clear()
            for name in self._generations:
                self._generations[name] += 1
            return
        self._generations[site] = self._generations.get(site, 0) + 1

    def __len__(self) -> int:
        return len(self._entries)
