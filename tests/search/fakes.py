"""A stand-in content service (and the token endpoint its client needs) for search tests.

It serves `/api/content/v1/changes` with the kernel's feed semantics and
`/api/content/v1/index-documents`, from an in-memory list the test publishes into.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Header, HTTPException

REFERENCE_KEYS = ("publication_id", "site", "column_id", "status", "resource_id", "resource_version", "title")


class FakeContent:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.documents: dict[int, dict[str, Any]] = {}
        self.app = self._make_app()

    # -- what a test does -------------------------------------------------------------

    def change(self, publication_id: int, status: str, **fields: Any) -> dict[str, Any]:
        doc = dict(self.documents.get(publication_id) or default_document(publication_id))
        doc.update(fields)
        doc["status"] = status
        if status == "archived" and not doc.get("archived_at"):
            doc["archived_at"] = datetime(2024, 6, 1, tzinfo=UTC).isoformat()
        self.documents[publication_id] = doc
        self.events.append(
            {
                "cursor": len(self.events) + 1,
                "topic": f"publication.{status}",
                "key": str(publication_id),
                "site_id": doc["site"],
                # Like content's: a reference; the consumer fetches the document by id.
                "payload": {k: doc[k] for k in REFERENCE_KEYS},
                "created_at": datetime.now(UTC).isoformat(),
            }
        )
        return doc

    def publish(self, publication_id: int, **fields: Any) -> dict[str, Any]:
        return self.change(publication_id, "published", **fields)

    def published_ids(self) -> set[int]:
        return {i for i, d in self.documents.items() if d["status"] in ("published", "archived")}

    # -- the API ----------------------------------------------------------------------

    def _make_app(self) -> FastAPI:
        app = FastAPI()
        fake = self

        @app.get("/api/content/v1/changes")
        async def changes(
            after: int = 0, limit: int = 100, topics: str | None = None, authorization: str = Header("")
        ) -> dict[str, Any]:
            if not authorization.startswith("Bearer "):
                raise HTTPException(401)
            wanted = [t for t in (topics or "").split(",") if t]
            items = [e for e in fake.events if e["cursor"] > after and (not wanted or e["topic"] in wanted)]
            items = items[:limit]
            head = len(fake.events)
            next_cursor = items[-1]["cursor"] if items else after
            return {"items": items, "head": head, "next_cursor": next_cursor, "has_more": next_cursor < head}

        @app.get("/api/content/v1/index-documents")
        async def index_documents(after: int = 0, limit: int = 100, ids: str | None = None) -> dict[str, Any]:
            if ids is not None:
                wanted = sorted({int(i) for i in ids.split(",")})
                return {"items": [fake.documents[i] for i in wanted if i in fake.documents]}
            live = sorted(
                (
                    d
                    for i, d in fake.documents.items()
                    if i > after and d["status"] in ("published", "archived")
                ),
                key=lambda d: d["publication_id"],
            )
            return {"items": live[:limit]}

        @app.post("/api/identity/v1/token")
        async def token() -> dict[str, Any]:
            return {"access_token": "internal-test-token", "token_type": "Bearer", "expires_in": 300}

        return app


def default_document(publication_id: int) -> dict[str, Any]:
    published = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=publication_id)
    return {
        "publication_id": publication_id,
        "site": "portal",
        "site_name": "示范市人民政府",
        "column_id": 1,
        "column_name": "政策文件",
        "status": "published",
        "resource_id": publication_id,
        "resource_version": 1,
        "title": f"文件{publication_id}",
        "body_text": "",
        "summary": "",
        "index_no": None,
        "doc_no": None,
        "issuer_org": "市政府办公室",
        "genre": "通知",
        "topic": "综合政务",
        "keywords": [],
        "written_at": None,
        "published_at": published.isoformat(),
        "archived_at": None,
        "validity": "有效",
        "important": False,
        "url": f"/api/content/v1/items/{publication_id}",
    }
