"""A 找错 page URL matched through the real content service: publication, column, its editor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.interaction.service.pages import PageMatch, content_lookup
from services.kernel.client import ServiceDirectory
from tests.content.conftest import Content, FakeLibrary
from tests.support.services import running_service
from tests.support.tokens import TestIssuer


@pytest.fixture
async def content(tmp_path: Path, issuer: TestIssuer) -> AsyncIterator[Content]:
    library = FakeLibrary()
    async with running_service("content", tmp_path, issuer) as (app, client):
        fake = library.app(issuer)
        app.state.ctx.directory.register_app("resources", fake)
        app.state.ctx.directory.register_app("identity", fake)
        yield Content(app=app, client=client, issuer=issuer, library=library)


async def test_page_urls_are_matched_to_publication_column_and_editor(
    content: Content, issuer: TestIssuer
) -> None:
    await content.site("sfs")
    column = await content.column("sfs", "通知公告", responsible_editor="ed-notice")
    pid = await content.publish_new("sfs", column, "关于春节假期安排的通知")

    directory = ServiceDirectory("secret")
    directory.register_app("content", content.app)
    directory.register_app("identity", content.library.app(issuer))
    lookup = content_lookup(directory)
    try:
        item = await lookup("sfs", f"https://sfs.example.gov.cn/sites/sfs/api/content/v1/items/{pid}")
        assert item == PageMatch(publication_id=pid, column_id=column, responsible_editor="ed-notice")
        listing = await lookup("sfs", f"/api/content/v1/columns/{column}/items?page=2")
        assert listing == PageMatch(publication_id=None, column_id=column, responsible_editor="ed-notice")
        assert await lookup("sfs", "/api/content/v1/items/999999") == PageMatch()
        assert await lookup("wjw", f"/api/content/v1/items/{pid}") == PageMatch()  # another site's page
        assert await lookup("sfs", "/zwgk/index.html") == PageMatch()
    finally:
        await directory.aclose()
