"""Which hosted site a request is for.

The registry is a copy of the content service's sites (codes, domains, status) held in
memory, loaded at start and refreshed from content's change feed, so a new site or domain
works within a second or two without a restart and a lookup costs one dict access.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import idna

from services.kernel.client import ServiceDirectory

log = logging.getLogger("jiyue.gateway.tenancy")

REGISTRY_PATH = "/api/content/v1/site-registry"


def normalise_host(host: str) -> str:
    """Lower-case, without port, in its ASCII (punycode) form."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return host
    return host


@dataclass
class SiteEntry:
    code: str
    name: str = ""
    status: str = "online"
    domains: list[str] = field(default_factory=list)
    notice: str | None = None
    redirect_to: str | None = None
    resume_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteEntry:
        return cls(
            code=data["code"],
            name=data.get("name", ""),
            status=data.get("status", "online"),
            domains=[normalise_host(d) for d in data.get("domains", [])],
            notice=data.get("notice"),
            redirect_to=data.get("redirect_to"),
            resume_at=data.get("resume_at"),
        )


ChangeListener = Callable[[list[dict[str, Any]]], None]
_HOST_MEMO_MAX = 10_000


class SiteRegistry:
    def __init__(self, directory: ServiceDirectory | None, platform_hosts: list[str]) -> None:
        self.directory = directory
        self.platform_hosts = {normalise_host(h) for h in platform_hosts}
        self.by_code: dict[str, SiteEntry] = {}
        self.by_host: dict[str, SiteEntry] = {}
        self.cursor = 0
        self.head = 0
        self.loaded = False
        self.last_error: str | None = None
        # Called with every batch of content events (cache invalidation listens here).
        self.listeners: list[ChangeListener] = []
        self._wake = asyncio.Event()
        # raw Host header -> normalised host; a request pays for idna/lower-casing once per host.
        self._hosts: dict[bytes, str] = {}

    def replace(self, entries: list[SiteEntry]) -> None:
        by_code = {e.code: e for e in entries}
        by_host = {d: e for e in entries for d in e.domains}
        self.by_code, self.by_host = by_code, by_host

    def host_of(self, raw: bytes) -> str:
        host = self._hosts.get(raw)
        if host is None:
            try:
                text = raw.decode("utf-8")  # some clients send Unicode hosts raw
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            host = normalise_host(text)
            if len(self._hosts) >= _HOST_MEMO_MAX:
                self._hosts.clear()
            self._hosts[raw] = host
        return host

    def resolve_host(self, host: str) -> SiteEntry | None:
        return self.by_host.get(normalise_host(host))

    def is_platform_host(self, host: str) -> bool:
        return normalise_host(host) in self.platform_hosts

    def wake(self) -> None:
        """Read the feed now (an in-process content service may call this after a commit)."""
        self._wake.set()

    async def load(self) -> None:
        if self.directory is None or not self.directory.knows("content"):
            return
        resp = await self.directory.client("content").get(REGISTRY_PATH)
        resp.raise_for_status()
        body = resp.json()
        self.replace([SiteEntry.from_json(item) for item in body["items"]])
        self.cursor = max(self.cursor, int(body.get("cursor", 0)))
        self.head = max(self.head, self.cursor)
        self.loaded = True
        self.last_error = None

    async def _read_feed(self) -> bool:
        """Apply content's new events; True when there may be more to read at once."""
        assert self.directory is not None
        resp = await self.directory.client("content").get(
            "/api/content/v1/changes",
            params={"after": self.cursor, "limit": 500, "consumer": "gateway-site-registry"},
        )
        if resp.status_code == 410:
            # Behind content's feed retention: the registry itself is the snapshot (with its head).
            await self.load()
            return True
        resp.raise_for_status()
        body = resp.json()
        events: list[dict[str, Any]] = body["items"]
        self.head = int(body.get("head", self.head))
        if not events:
            return False
        if any(str(e.get("topic", "")).startswith("site.") for e in events):
            await self.load()
        self.cursor = max(self.cursor, int(events[-1]["cursor"]))
        for listener in self.listeners:
            try:
                listener(events)
            except Exception:
                log.exception("site registry listener failed")
        return bool(body.get("has_more"))

    async def follow(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Keep the registry current; survives the content service being down."""
        backoff = interval
        while not stop.is_set():
            more = False
            # Cleared before the read: a wake-up arriving during it starts the next read at once.
            self._wake.clear()
            try:
                if not self.loaded:
                    await self.load()
                if self.loaded:
                    more = await self._read_feed()
                backoff = interval
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("site registry refresh failed: %s", self.last_error)
                backoff = min(backoff * 2, 30.0)
            if more:
                continue
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=backoff, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
