"""A content service with stand-ins for resources (stored versions) and identity (tokens)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Form
from fastapi.responses import JSONResponse

from tests.support.services import running_service
from tests.support.tokens import TestIssuer


@dataclass
class FakeLibrary:
    """Answers the versions endpoint like the resource library does."""

    versions: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    unstored: set[tuple[int, int]] = field(default_factory=set)
    calls: list[tuple[int, int, str]] = field(default_factory=list)
    next_id: int = 100

    def add(self, title: str, *, version: int = 1, resource_id: int | None = None, **meta: Any) -> int:
        if resource_id is None:
            self.next_id += 1
            resource_id = self.next_id
        self.versions[(resource_id, version)] = {
            "resource_id": resource_id,
            "version": version,
            "status": "stored",
            "metadata": {"title": title, **meta},
            "body_html": f"<p>{title}的正文。</p>",
            "body_text": f"{title}的正文。",
            "index_no": f"990100-2026-{resource_id:05d}",
            "attachments": [
                {"sha256": "ab" * 32, "name": "附件.pdf", "size": 10, "media_type": "application/pdf"}
            ],
            "owner_site": "sfs",
            "owner_org": "sfs",
            "scope": "platform",
        }
        return resource_id

    def app(self, issuer: TestIssuer) -> FastAPI:
        app = FastAPI()

        @app.get("/api/resources/v1/resources/{rid}/versions/{n}")
        async def version(rid: int, n: int, for_site: str) -> JSONResponse:
            self.calls.append((rid, n, for_site))
            if (rid, n) in self.unstored:
                return JSONResponse({"title": "未入库"}, status_code=409)
            if (rid, n) not in self.versions:
                return JSONResponse({"title": "不存在"}, status_code=404)
            return JSONResponse(self.versions[(rid, n)])

        @app.post("/api/identity/v1/token")
        async def token(client_id: str = Form(...)) -> dict[str, Any]:
            access = issuer.token(
                client_id, scope="changes:read internal", kind="client", client_id=client_id
            )
            return {"access_token": access, "token_type": "Bearer", "expires_in": 300}

        return app


@dataclass
class Content:
    app: Any
    client: httpx.AsyncClient
    issuer: TestIssuer
    library: FakeLibrary

    def as_(self, sub: str, *roles: tuple[str, str | None], site: str | None = None) -> dict[str, str]:
        return self.issuer.headers(sub, list(roles), site=site)

    @property
    def admin(self) -> dict[str, str]:
        return self.as_("root", ("platform_admin", None))

    def editor(self, site: str, sub: str | None = None) -> dict[str, str]:
        return self.as_(sub or f"{site}_editor", ("editor", site))

    def reviewer(self, site: str, n: int = 1) -> dict[str, str]:
        return self.as_(f"{site}_reviewer{n}", ("reviewer", site))

    def site_admin(self, site: str) -> dict[str, str]:
        return self.as_(f"{site}_admin", ("site_admin", site))

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx

    async def site(
        self, code: str, *, parent: str | None = None, kind: str = "department", **extra: Any
    ) -> dict[str, Any]:
        body = {
            "code": code,
            "name": extra.pop("name", f"{code}网站"),
            "kind": kind,
            "parent_code": parent,
            "domains": extra.pop("domains", [f"{code}.example.gov.cn"]),
            "id_code": extra.pop("id_code", "9901000001" if kind == "portal" else "bm99010001"),
            **extra,
        }
        resp = await self.client.post("/api/content/v1/sites", json=body, headers=self.admin)
        assert resp.status_code == 201, resp.text
        online = await self.client.post(
            f"/api/content/v1/sites/{code}/status", json={"status": "online"}, headers=self.admin
        )
        assert online.status_code == 200, online.text
        return online.json()

    async def column(self, site: str, name: str, chain: list[str] | None = None, **extra: Any) -> int:
        body = {"name": name, "review_chain": chain or ["reviewer", "reviewer"], **extra}
        resp = await self.client.post(
            f"/api/content/v1/sites/{site}/columns", json=body, headers=self.site_admin(site)
        )
        assert resp.status_code == 201, resp.text
        return int(resp.json()["id"])

    async def place(self, site: str, column: int, title: str, **kw: Any) -> dict[str, Any]:
        meta = kw.pop("meta", {})
        rid = self.library.add(title, **meta)
        body = {"column_id": column, "resource_id": rid, "resource_version": 1, **kw}
        resp = await self.client.post(
            f"/api/content/v1/sites/{site}/publications", json=body, headers=self.editor(site)
        )
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    async def act(self, pid: int, action: str, headers: dict[str, str], **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/api/content/v1/publications/{pid}/{action}", json=body, headers=headers
        )

    async def approve(self, pid: int, headers: dict[str, str]) -> httpx.Response:
        return await self.act(
            pid, "approve", headers, opinion="同意", confidentiality_check={"passed": True, "note": "无涉密"}
        )

    async def publish_new(self, site: str, column: int, title: str, **kw: Any) -> int:
        """Place, submit, two approvals, publish; returns the live publication's id."""
        pid = int((await self.place(site, column, title, **kw))["id"])
        for step in (
            await self.act(pid, "submit", self.editor(site)),
            await self.approve(pid, self.reviewer(site, 1)),
            await self.approve(pid, self.reviewer(site, 2)),
            await self.act(pid, "publish", self.editor(site)),
        ):
            assert step.status_code == 200, step.text
        return pid

    async def deliver(self, site: str, path: str, **headers: str) -> httpx.Response:
        return await self.client.get(f"/api/content/v1{path}", headers={"X-Jiyue-Site": site, **headers})


async def _start(
    tmp_path: Path, issuer: TestIssuer, run_workers: bool, **overrides: Any
) -> AsyncIterator[Content]:
    library = FakeLibrary()
    async with running_service("content", tmp_path, issuer, run_workers=run_workers, **overrides) as (
        app,
        client,
    ):
        fake = library.app(issuer)
        app.state.ctx.directory.register_app("resources", fake)
        app.state.ctx.directory.register_app("identity", fake)
        yield Content(app=app, client=client, issuer=issuer, library=library)


@pytest.fixture
async def content(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    async for c in _start(tmp_path, issuer, run_workers=False):
        yield c


@pytest.fixture
async def content_live(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    """With the in-process workers running (syndication, push, scheduler)."""
    async for c in _start(tmp_path, issuer, run_workers=True, content_push_backoff_seconds=0.05):
        yield c
