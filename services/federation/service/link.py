"""The exchange with one peer platform, all through the guarded outbound client: a
client-credentials token from the peer's identity, its federation feed, its public items."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

from services.kernel.errors import Conflict, FeedCursorExpired, PeerUnavailable
from services.kernel.feed import FeedEvent
from services.kernel.outbound import OutboundClient, OutboundError, OutboundResponse

FEED_PATH = "/api/federation/v1/peer/changes"


class PeerLink:
    def __init__(self, outbound: OutboundClient, base_url: str, client_id: str, secret: str) -> None:
        self.outbound = outbound
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.secret = secret
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def _send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> OutboundResponse:
        try:
            return await self.outbound.request(method, self.base_url + path, content=body, headers=headers)
        except OutboundError as exc:
            raise PeerUnavailable(f"{self.base_url}: {exc}") from None

    async def token(self) -> str:
        async with self._lock:
            if self._token and time.time() < self._expires - 30:
                return self._token
            form = urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.secret,
                }
            ).encode()
            resp = await self._send(
                "POST",
                "/api/identity/v1/token",
                form,
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
            if resp.status_code != 200:
                raise PeerUnavailable(f"对方平台拒绝了本平台的客户端凭据（HTTP {resp.status_code}）")
            body = json.loads(resp.body)
            self._token = str(body["access_token"])
            self._expires = time.time() + float(body.get("expires_in", 300))
            return self._token

    async def get_json(self, path: str, *, authed: bool) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if authed:
            headers["Authorization"] = f"Bearer {await self.token()}"
        resp = await self._send("GET", path, headers=headers)
        if resp.status_code == 401 and authed:  # the peer rotated keys or revoked: one fresh try
            self._token = None
            headers["Authorization"] = f"Bearer {await self.token()}"
            resp = await self._send("GET", path, headers=headers)
        try:
            body = json.loads(resp.body) if resp.body else None
        except ValueError:
            raise PeerUnavailable(f"对方平台的回答不是 JSON（HTTP {resp.status_code}）") from None
        return resp.status_code, body

    async def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        """An authed POST of JSON (a usage registered at the peer); one fresh token on a 401."""
        data = json.dumps(body, ensure_ascii=False).encode()
        for fresh in (False, True):
            if fresh:
                self._token = None
            headers = {"Accept": "application/json", "Content-Type": "application/json"}
            headers["Authorization"] = f"Bearer {await self.token()}"
            resp = await self._send("POST", path, data, headers)
            if resp.status_code != 401:
                break
        try:
            return resp.status_code, json.loads(resp.body) if resp.body else None
        except ValueError:
            raise PeerUnavailable(f"对方平台的回答不是 JSON（HTTP {resp.status_code}）") from None

    async def get_bytes(self, path: str, max_bytes: int) -> tuple[int, bytes]:
        """An authed GET of a file (a shared resource's attachment), refused beyond `max_bytes`
        — what the file is declared to be — so a peer cannot make us hold more than that."""
        cap = self.outbound.policy.max_response_bytes
        if max_bytes > cap:
            raise Conflict(f"附件大小 {max_bytes} 字节超过互联读取上限 {cap} 字节")
        for fresh in (False, True):
            if fresh:
                self._token = None
            headers = {"Accept": "*/*", "Authorization": f"Bearer {await self.token()}"}
            resp = await self._send("GET", path, headers=headers)
            if resp.status_code != 401:
                break
        if len(resp.body) > max_bytes:
            raise PeerUnavailable(f"对方平台的附件超过声明的 {max_bytes} 字节")
        return resp.status_code, resp.body

    async def changes(
        self, after: int, limit: int, topics: list[str], consumer: str
    ) -> tuple[list[FeedEvent], int]:
        query = urlencode({"after": after, "limit": limit, "topics": ",".join(topics), "consumer": consumer})
        status, body = await self.get_json(f"{FEED_PATH}?{query}", authed=True)
        if status == 410:
            raise FeedCursorExpired((body or {}).get("detail"), extra=(body or {}).get("extra") or {})
        if status != 200 or not isinstance(body, dict):
            raise PeerUnavailable(f"对方平台的变更订阅回答 HTTP {status}")
        return [FeedEvent.from_json(e) for e in body["items"]], int(body["head"])

    async def public_item(self, site: str, publication_id: int) -> dict[str, Any] | None:
        """The peer's public delivery of an item, or None when it is no longer public there."""
        status, body = await self.get_json(
            f"/sites/{site}/api/content/v1/items/{publication_id}", authed=False
        )
        if status in (404, 410):
            return None
        if status != 200 or not isinstance(body, dict):
            raise PeerUnavailable(f"对方平台的信息 {publication_id} 回答 HTTP {status}")
        return body
