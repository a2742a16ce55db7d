"""Running the resources service alone, with tokens from a test issuer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.services import running_service
from tests.support.tokens import TestIssuer

SITE = "jtj"
OTHER_SITE = "wjw"


def policy_metadata(**overrides: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "title": "丹东市人民政府关于加强政府网站管理的通知",
        "issuer_org": {"code": "DDSZF", "name": "丹东市人民政府"},
        "written_at": "2019-06-12",
        "published_at": "2019-06-20",
        "doc_no": "丹政发[2019]43号",
        "topic": "zhengfu",
        "genre": "zhengce",
        "keywords": ["政府网站", "集约化"],
        "abstract": "政府网站集约化管理办法",
        "validity": "有效",
        "source": "丹东市人民政府办公室",
    }
    meta.update(overrides)
    return meta


class Actors:
    """Headers for the people of a test: an editor of each site, a platform admin, content."""

    def __init__(self, issuer: TestIssuer) -> None:
        self.editor = issuer.headers("ed1", [("editor", SITE)], site=SITE, org="DDSZF", name="编辑甲")
        self.other_editor = issuer.headers("ed2", [("editor", OTHER_SITE)], site=OTHER_SITE)
        self.admin = issuer.headers("root", [("platform_admin", None)], site=SITE, name="平台管理员")
        self.internal = issuer.headers("jiyue-internal", [], scope="changes:read internal", kind="client")


@pytest.fixture
def actors(issuer: TestIssuer) -> Actors:
    return Actors(issuer)


@pytest.fixture
async def service(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    async with running_service("resources", tmp_path / "var", issuer, resources_max_upload_mb=1) as pair:
        yield pair


@pytest.fixture
def client(service: tuple[Any, httpx.AsyncClient]) -> httpx.AsyncClient:
    return service[1]


async def create_draft(
    client: httpx.AsyncClient, headers: dict[str, str], body_html: str = "<p>正文</p>", **meta: Any
) -> dict[str, Any]:
    resp = await client.post(
        "/api/resources/v1/resources",
        json={"metadata": policy_metadata(**meta), "body_html": body_html},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body
