"""Two sites, their people and site A's non-public objects, made as their owners make them.

Setup goes straight to the services with the platform's internal client (setting up is not what
is tested); the people sign in through the gateway like anyone else. Site A's non-public objects
carry a random marker so that any leak of them is visible in any answer.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.platform import Platform

IDENTITY = "/api/identity/v1"
CONTENT = "/api/content/v1"
RESOURCES = "/api/resources/v1"

# Path parameters that name a site's public structure (the site itself, its column tree):
# reading them is no leak, writing them as an outsider is.
SITE_PARAMS = frozenset({"code", "column_id"})


@dataclass
class World:
    platform: Platform
    marker: str
    # What outsiders search for: a word only A's non-public text contains. It is not the marker,
    # because suggestions may echo what people typed; a leaked hit would carry the marker.
    search_word: str = field(default_factory=lambda: "暗号" + secrets.token_hex(4))
    site_a: str = "isoa"
    site_b: str = "isob"
    host_a: str = "isoa.example.gov.cn"
    tokens: dict[str, str] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)  # path parameter → A's object
    site_params: frozenset[str] = SITE_PARAMS

    @property
    def client(self) -> httpx.AsyncClient:
        return self.platform.client

    def auth(self, caller: str) -> dict[str, str]:
        token = self.tokens.get(caller)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def path_values(
        self, path: str, params: list[dict[str, Any]], doc: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Values for A's objects and for ghosts; equal where a parameter names no object."""
        real: dict[str, str] = {}
        ghost: dict[str, str] = {}
        for param in params:
            name = param["name"]
            value = self._object_for(path, name)
            if value is None:
                plain = _plain_value(param, doc)
                real[name] = ghost[name] = plain
            elif name in self.site_params:
                real[name] = ghost[name] = value
            else:
                real[name] = value
                ghost[name] = "0" * 64 if name == "sha256" else "987654321"
        return real, ghost

    def _object_for(self, path: str, name: str) -> str | None:
        if name == "code" and path.startswith(CONTENT):
            return self.site_a
        if name == "id":
            segment = path.split("/{id}")[0].rsplit("/", 1)[-1]
            return self.objects.get(segment)
        return self.objects.get(name)


def _plain_value(param: dict[str, Any], doc: dict[str, Any]) -> str:
    schema = param.get("schema", {})
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("enum"):
        return str(schema["enum"][0])
    if schema.get("type") == "integer":
        return "1"
    return "approve" if param["name"] == "action" else "x"


async def build_world(platform: Platform, marker: str) -> World:
    world = World(platform=platform, marker=marker)
    identity = platform.gateway.directory.client("identity")
    content = platform.gateway.directory.client("content")
    for code, name in ((world.site_a, "甲站"), (world.site_b, "乙站")):
        site = {
            "code": code,
            "name": f"示范市{name}",
            "kind": "department",
            "domains": [f"{code}.example.gov.cn"],
            "id_code": "bm9901000" + ("1" if code == world.site_a else "2"),
        }
        made = await content.post(f"{CONTENT}/sites", json=site)
        assert made.status_code == 201, made.text
        online = await content.post(f"{CONTENT}/sites/{code}/status", json={"status": "online"})
        assert online.status_code == 200, online.text
    await _gateway_knows(platform.client, world.site_a, world.site_b)
    column = await content.post(
        f"{CONTENT}/sites/{world.site_a}/columns", json={"name": "通知公告", "review_chain": ["reviewer"]}
    )
    assert column.status_code == 201, column.text
    world.objects["column_id"] = str(column.json()["id"])

    people = {
        "editor_a": ("editor", world.site_a),
        "editor_b": ("editor", world.site_b),
        "reviewer_b": ("reviewer", world.site_b),
        "site_admin_b": ("site_admin", world.site_b),
        "auditor_b": ("auditor", world.site_b),
        "platform_admin": ("platform_admin", None),
        "security_admin": ("security_admin", None),
        "audit_admin": ("audit_admin", None),
    }
    passwords: dict[str, str] = {}
    for username, (role, site) in people.items():
        password = "Iso-" + secrets.token_urlsafe(12)
        display = f"甲站编辑{marker}" if username == "editor_a" else username
        made = await identity.post(
            f"{IDENTITY}/users", json={"username": username, "display_name": display, "password": password}
        )
        assert made.status_code == 201, made.text
        bound = await identity.post(
            f"{IDENTITY}/users/{made.json()['id']}/roles", json={"role": role, "site": site}
        )
        assert bound.status_code == 201, bound.text
        passwords[username] = password
        if username == "editor_a":
            world.objects["user_id"] = str(made.json()["id"])
            world.objects["users"] = world.objects["user_id"]
            world.objects["binding_id"] = str(bound.json()["id"])
    citizen_password = "Cit-" + secrets.token_urlsafe(12)
    registered = await platform.client.post(
        f"{IDENTITY}/register",
        json={"username": "citizen01", "display_name": "市民", "password": citizen_password},
    )
    assert registered.status_code in (200, 201), registered.text
    passwords["citizen"] = citizen_password
    for caller, password in passwords.items():
        username = "citizen01" if caller == "citizen" else caller
        world.tokens[caller] = await _sign_in(platform.client, username, password)
    world.tokens["peer"] = await peer_token(platform.client, platform.gateway.directory.client("federation"))

    await _site_a_objects(world)
    return world


async def _gateway_knows(client: httpx.AsyncClient, *codes: str) -> None:
    """The gateway learns new sites from content's feed; wait until it routes them."""
    deadline = time.monotonic() + 10
    for code in codes:
        while (await client.get(f"/sites/{code}/api/content/v1/site")).status_code != 200:
            assert time.monotonic() < deadline, f"the gateway never learned site {code}"
            await asyncio.sleep(0.05)


async def peer_token(client: httpx.AsyncClient, federation: httpx.AsyncClient) -> str:
    """A peer platform (the province) registered here with every scope a peer can hold, and the
    token its machine client gets through the gateway."""
    registered = await federation.post(
        "/api/federation/v1/peers",
        json={
            "code": "province",
            "name": "示范省",
            "base_url": "https://province.example.gov.cn",
            "issuer": "https://province.example.gov.cn",
            "scopes": ["peer:feed", "peer:registry"],
        },
    )
    assert registered.status_code == 201, registered.text
    peer = registered.json()
    resp = await client.post(
        f"{IDENTITY}/token",
        data={
            "grant_type": "client_credentials",
            "client_id": peer["local_client_id"],
            "client_secret": peer["local_client_secret"],
        },
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> str:
    resp = await client.post(
        f"{IDENTITY}/token",
        data={
            "grant_type": "password",
            "client_id": "jiyue-console",
            "username": username,
            "password": password,
        },
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


async def _site_a_objects(world: World) -> None:
    """A's editor writes a stored, unpublished own-site resource and places it as a draft."""
    c = world.client
    editor = world.auth("editor_a")
    prefix = f"/sites/{world.site_a}"
    body = {
        "metadata": {
            "title": f"内部草稿{world.marker}",
            "issuer_org": {"code": world.site_a, "name": "示范市甲站"},
            "genre": "tongzhi",
            "keywords": ["草稿"],
        },
        "body_html": f"<p>尚未发布的内部稿件{world.search_word}，标记{world.marker}。</p>",
        "scope": "own_site",
    }
    made = await c.post(f"{prefix}{RESOURCES}/resources", json=body, headers=editor)
    assert made.status_code == 201, made.text
    rid = str(made.json()["id"])
    pdf = b"%PDF-1.4\n% " + world.marker.encode() + b"\n%%EOF\n"
    uploaded = await c.post(
        f"{prefix}{RESOURCES}/resources/{rid}/attachments",
        files={"file": ("内部.pdf", pdf, "application/pdf")},
        headers=editor,
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    stored = await c.post(f"{prefix}{RESOURCES}/resources/{rid}/store", headers=editor)
    assert stored.status_code == 200, stored.text
    placed = await c.post(
        f"{CONTENT}/sites/{world.site_a}/publications",
        json={"column_id": int(world.objects["column_id"]), "resource_id": int(rid), "resource_version": 1},
        headers=editor,
    )
    assert placed.status_code == 201, placed.text
    pid = str(placed.json()["id"])
    world.objects.update(
        {
            "resource_id": rid,
            "resources": rid,
            "sha256": str(uploaded.json()["sha256"]),
            "publication_id": pid,
            "publications": pid,
            "item_id": pid,
            "items": pid,
        }
    )
