"""Which hosted site a request is for.

The registry is a copy of the content service's sites (codes, domains, status) held in
memory, loaded at start and refreshed from content's change feed, so a new site or domain
works within a second or two without a restart and a lookup costs one dict access.
"""

from __future__ import annotations

import asyncio
import logging
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


class SiteRegistry:
    def __init__(self, directory: ServiceDirectory | None, platform_hosts: list[str]) -> None:
        self.directory = directory
        self.platform_hosts = {normalise_host(h) for h in platform_hosts}
        self.by_code: dict[str, SiteEntry] = {}
        self.by_host: dict[str, SiteEntry] = {}
        self.cursor = 0
        self.loaded = False
        self.last_error: str | None = None

    def replace(self, entries: list[SiteEntry]) -> None:
        by_code = {e.code: e for e in entries}
        by_host = {d: e for e in entries for d in e.domains}
        self.by_code, self.by_host = by_code, by_host

    def resolve_host(self, host: str) -> SiteEntry | None:
        return self.by_host.get(normalise_host(host))

    def is_platform_host(self, host: str) -> bool:
        return normalise_host(host) in self.platform_hosts

    async def load(self) -> None:
        if self.directory is None or not self.directory.knows("content"):
            return
        resp = await self.directory.client("content").get(REGISTRY_PATH)
        resp.raise_for_status()
        body = resp.json()
        self.replace([SiteEntry.from_json(item) for item in body["items"]])
        self.cursor = max(self.cursor, int(body.get("cursor", 0)))
        self.loaded = True
        self.last_error = None

    async def _changed_since_cursor(self) -> bool:
        assert self.directory is not None
        resp = await self.directory.client("content").get(
            "/api/content/v1/changes",
            params={
                "after": self.cursor,
                "limit": 200,
                "topics": "site.created,site.updated,site.status",
            },
        )
        resp.raise_for_status()
        body = resp.json()
        if body["items"]:
            self.cursor = int(body["items"][-1]["cursor"])
            return True
        return False

    async def follow(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Keep the registry current; survives the content service being down."""
        backoff = interval
        while not stop.is_set():
            try:
                if not self.loaded:
                    await self.load()
                elif await self._changed_since_cursor():
                    await self.load()
                backoff = interval
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("site registry refresh failed: %s", self.last_error)
                backoff = min(backoff * 2, 30.0)
            try:
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            except TimeoutError:
                pass
