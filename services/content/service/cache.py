"""The in-process cache of rendered delivery answers, invalidated per site on commit.

Published pages change rarely and are read constantly, so an answer is rendered once into
JSON bytes with its strong ETag and served from memory until a write to that site commits.
A per-site generation guards the race where a render that read the old state finishes after
the invalidation: it is then not stored.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedAnswer:
    status: int
    body: bytes
    etag: str
    headers: tuple[tuple[bytes, bytes], ...]


def strong_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


class DeliveryCache:
    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, str], CachedAnswer] = OrderedDict()
        self._generation: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    def generation(self, site: str) -> int:
        return self._generation.get(site, 0)

    def get(self, site: str, path: str, query: str) -> CachedAnswer | None:
        answer = self._entries.get((site, path, query))
        if answer is None:
            self.misses += 1
        else:
            self.hits += 1
        return answer

    def put(self, site: str, path: str, query: str, answer: CachedAnswer, generation: int) -> None:
        if self._generation.get(site, 0) != generation:
            return
        self._entries[(site, path, query)] = answer
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, *sites: str) -> None:
        targets = set(sites)
        for site in targets:
            self._generation[site] = self._generation.get(site, 0) + 1
        for key in [k for k in self._entries if k[0] in targets]:
            del self._entries[key]

    def clear(self) -> None:
        for site in list(self._generation):
            self._generation[site] += 1
        self._entries.clear()
        # Sites never seen before have generation 0 and nothing cached: nothing to bump.

    def __len__(self) -> int:
        return len(self._entries)
