"""Conditional requests and the in-process response cache for public delivery and search.

Entries are partitioned by site through a generation number: content's change feed bumps a
site's generation and every entry of the older generation becomes a miss at once, without
walking the cache. A response computed while the generation moved is never stored.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

DELIVERY = "delivery"
SEARCH = "search"

_CONTENT = "/api/content/v1/"
_SEARCH_PATHS = frozenset({"/api/search/v1/search", "/api/search/v1/suggest"})
_CONTENT_EXACT = frozenset({"/api/content/v1/site", "/api/content/v1/columns"})
# Headers that describe one exchange, not the resource.
_NOT_STORED = frozenset({b"x-request-id", b"date", b"set-cookie", b"content-length", b"server"})


def cache_kind(path: str) -> str | None:
    """Which public GET this is, if its answer may be cached and revalidated."""
    if path.startswith(_CONTENT):
        if path in _CONTENT_EXACT:
            return DELIVERY
        rest = path[len(_CONTENT) :]
        if rest.startswith("items/") and rest.count("/") == 1 and len(rest) > 6:
            return DELIVERY
        if rest.startswith("columns/") and rest.endswith("/items") and rest.count("/") == 2:
            return DELIVERY
        return None
    if path in _SEARCH_PATHS:
        return SEARCH
    return None


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


class ResponseCache:
    def __init__(self, *, max_entries: int, max_body: int, ttl: float, search_ttl: float) -> None:
        self.max_entries = max_entries
        self.max_body = max_body
        self.ttl = ttl
        self.search_ttl = search_ttl
        self._entries: OrderedDict[tuple[str, str, bytes, bytes], Entry] = OrderedDict()
        self._generations: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    def generation(self, site: str) -> int:
        return self._generations.get(site, 0)

    def get(self, key: tuple[str, str, bytes, bytes]) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if entry.generation != self._generations.get(key[0], 0) or entry.expires < time.monotonic():
            del self._entries[key]
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(
        self,
        key: tuple[str, str, bytes, bytes],
        kind: str,
        generation: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        etag: bytes,
    ) -> bool:
        if len(body) > self.max_body or generation != self._generations.get(key[0], 0):
            return False
        ttl = self.search_ttl if kind == SEARCH else self.ttl
        self._entries[key] = Entry(storable_headers(headers), body, etag, generation, time.monotonic() + ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
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
