"""Which publication and column a page URL shows, asked of content's public API.

A URL the platform delivers names the item (`…/items/{id}`) or the column
(`…/columns/{id}/items`); anything else (a front end's own route, a service page) stays
unmatched and the report goes to the site's staff as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from services.kernel.client import ServiceDirectory
from services.kernel.deps import TENANT_HEADER
from services.kernel.errors import ServiceUnavailable


@dataclass(frozen=True)
class PageMatch:
    publication_id: int | None = None
    column_id: int | None = None
    responsible_editor: str | None = None


PageLookup = Callable[[str, str], Awaitable[PageMatch]]

_ITEM = re.compile(r"/items/([1-9][0-9]{0,17})(?:/|$)")
_COLUMN = re.compile(r"/columns/([1-9][0-9]{0,17})(?:/|$)")


def content_lookup(directory: ServiceDirectory) -> PageLookup:
    async def lookup(site: str, url: str) -> PageMatch:
        path = urlsplit(url).path
        publication_id = column_id = None
        try:
            if m := _ITEM.search(path):
                resp = await directory.raw("content").get(
                    f"/api/content/v1/items/{m.group(1)}", headers={TENANT_HEADER: site}
                )
                if resp.status_code == 200:
                    publication_id = int(m.group(1))
                    column_id = resp.json().get("column_id")
            elif m := _COLUMN.search(path):
                column_id = int(m.group(1))
            if column_id is None:
                return PageMatch(publication_id)
            resp = await directory.client("content").get(f"/api/content/v1/sites/{site}/columns/{column_id}")
        except (httpx.HTTPError, ServiceUnavailable):
            return PageMatch(publication_id, column_id)
        if resp.status_code != 200:
            return PageMatch(publication_id, None)
        return PageMatch(publication_id, column_id, resp.json().get("responsible_editor") or None)

    return lookup
