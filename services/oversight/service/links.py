"""Broken links and attachments of live items.

Internal addresses (a relative path, the platform's own host or a hosted site's domain) are the
platform's own objects and pages: they are asked of the owning service through the directory,
never over the network. Everything else is a tenant-chosen URL and goes through the guarded
outbound client: HEAD first, GET when the server does not do HEAD, one total deadline each, at
most `concurrency` requests at once and one at a time per host, spaced by `host_interval`.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.client import ServiceDirectory
from services.kernel.outbound import OutboundClient, OutboundError
from services.oversight.models import LinkFinding, LiveItem
from services.oversight.service.freshness import Evidence, Finding, Rules, level_of
from services.oversight.service.peers import tenant_headers
from services.oversight.vocab import Indicator

_SITE_PREFIX = re.compile(r"^/sites/([^/]+)(/.*)$")
_API = re.compile(r"^/api/([a-z]+)/v1/")
_NO_HEAD = {405, 501}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"a": "href", "img": "src", "source": "src", "video": "src", "audio": "src", "iframe": "src"}
        name = wanted.get(tag)
        for key, value in attrs:
            if key == name and value:
                self.found.append(value.strip())


def extract(body_html: str, attachments: Iterable[dict[str, object]]) -> list[str]:
    """Every address an item's page makes a reader follow: links, media and attachments."""
    parser = _Links()
    parser.feed(body_html or "")
    urls = [u for u in parser.found if not u.startswith(("#", "mailto:", "tel:", "javascript:", "data:"))]
    urls += [str(a["url"]) for a in attachments if isinstance(a, dict) and a.get("url")]
    return list(dict.fromkeys(u[:1000] for u in urls))


@dataclass(frozen=True)
class Verdict:
    url: str
    internal: bool
    broken: bool
    detail: str


@dataclass
class LinkChecker:
    directory: ServiceDirectory
    outbound: OutboundClient
    internal_hosts: set[str]
    internal_secret: str = ""
    source: str = "content"
    concurrency: int = 8
    host_interval: float = 1.0
    _gate: asyncio.Semaphore = field(init=False)
    _hosts: dict[str, asyncio.Lock] = field(init=False, default_factory=lambda: defaultdict(asyncio.Lock))
    _last: dict[str, float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.concurrency)

    async def refresh_hosts(self) -> None:
        """The hosted sites' domains are the platform's own hosts (content's site registry)."""
        resp = await self.directory.client(self.source).get("/api/content/v1/site-registry")
        resp.raise_for_status()
        for entry in resp.json().get("items", []):
            self.internal_hosts.update(d.lower() for d in entry.get("domains", []))

    def _tenant(self, service: str, site: str, path: str) -> dict[str, str]:
        return tenant_headers(self.directory, self.internal_secret, service, site, "GET", path)

    async def item(self, site: str, publication_id: int) -> list[str] | None:
        """The addresses on an item's public page, as a reader gets it; None when it is not public."""
        path = f"/api/content/v1/items/{publication_id}"
        resp = await self.directory.raw(self.source).get(path, headers=self._tenant(self.source, site, path))
        if resp.status_code != 200:
            return None
        data = resp.json()
        return extract(str(data.get("body_html") or ""), data.get("attachments") or [])

    def internal_path(self, url: str, site: str) -> tuple[str, str] | None:
        """(site, path) when the address is the platform's own, else None."""
        parts = urlsplit(url)
        if parts.scheme and parts.scheme not in ("http", "https"):
            return None
        if parts.netloc and (parts.hostname or "").lower() not in self.internal_hosts:
            return None
        path = urljoin("/", parts.path or "/")
        match = _SITE_PREFIX.match(path)
        if match:
            return match.group(1), match.group(2)
        return site, path

    async def check(self, urls: Iterable[str], site: str) -> list[Verdict]:
        return list(await asyncio.gather(*(self._one(url, site) for url in urls)))

    async def _one(self, url: str, site: str) -> Verdict:
        internal = self.internal_path(url, site)
        if internal is not None:
            return await self._internal(url, *internal)
        if urlsplit(url).scheme not in ("http", "https"):
            return Verdict(url, False, True, "不支持的地址")
        return await self._external(url)

    async def _internal(self, url: str, site: str, path: str) -> Verdict:
        match = _API.match(path)
        directory = self.directory
        if match is None or not directory.knows(match.group(1)):
            return Verdict(url, True, True, "平台上没有这个地址")
        try:
            resp = await directory.raw(match.group(1)).get(
                path, headers={**self._tenant(match.group(1), site, path), "Range": "bytes=0-0"}
            )
        except httpx.HTTPError as exc:
            return Verdict(url, True, True, f"站内服务无应答：{type(exc).__name__}")
        broken = resp.status_code >= 400
        return Verdict(url, True, broken, f"HTTP {resp.status_code}" if broken else "")

    async def _external(self, url: str) -> Verdict:
        host = (urlsplit(url).hostname or "").lower()
        async with self._gate, self._hosts[host]:
            wait = self._last.get(host, 0.0) + self.host_interval - clock.epoch()
            if wait > 0:
                await asyncio.sleep(min(wait, self.host_interval))
            try:
                resp = await self.outbound.request("HEAD", url)
                if resp.status_code in _NO_HEAD or resp.status_code == 403:
                    resp = await self.outbound.request("GET", url, headers={"Range": "bytes=0-0"})
            except OutboundError as exc:
                return Verdict(url, False, True, exc.public)
            finally:
                self._last[host] = clock.epoch()
        broken = resp.status_code >= 400
        return Verdict(url, False, broken, f"HTTP {resp.status_code}" if broken else "")


async def record(session: AsyncSession, publication_id: int, site: str, verdicts: list[Verdict]) -> None:
    """Keep the broken ones with the instant each was first seen broken; forget the rest."""
    now = clock.now()
    known = {
        f.url: f
        for f in (
            await session.execute(
                select(LinkFinding).where(col(LinkFinding.publication_id) == publication_id)
            )
        ).scalars()
    }
    for v in verdicts:
        row = known.pop(v.url, None)
        if not v.broken:
            if row is not None:
                await session.delete(row)
            continue
        row = row or LinkFinding(
            publication_id=publication_id,
            url=v.url,
            site=site,
            internal=v.internal,
            broken=True,
            since=now,
            checked_at=now,
        )
        row.detail, row.checked_at = v.detail[:200], now
        session.add(row)
    for gone in known.values():  # no longer in the item
        await session.delete(gone)


async def forget(session: AsyncSession, publication_id: int) -> None:
    await session.execute(delete(LinkFinding).where(col(LinkFinding.publication_id) == publication_id))


async def broken_links(session: AsyncSession, code: str, rules: Rules) -> Finding:
    rows = (
        await session.execute(
            select(LinkFinding, col(LiveItem.title))
            .join(LiveItem, col(LiveItem.publication_id) == col(LinkFinding.publication_id))
            .where(col(LinkFinding.site) == code)
            .order_by(col(LinkFinding.since))
        )
    ).all()
    warn_at, veto_at = rules.counts[Indicator.BROKEN_LINKS.value]
    evidence = [
        Evidence(
            None,
            f"《{title}》（信息 {f.publication_id}）",
            None,
            (clock.now() - clock.aware(f.since)).days,
            url=f.url,
            since=clock.aware(f.since),
            detail=("站内" if f.internal else "站外") + (f"：{f.detail}" if f.detail else ""),
        )
        for f, title in rows
    ]
    return Finding(
        Indicator.BROKEN_LINKS,
        level_of(len(rows), warn_at, veto_at),
        len(rows),
        warn_at,
        veto_at,
        evidence[:50],
    )
