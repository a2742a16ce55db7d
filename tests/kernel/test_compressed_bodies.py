"""Bodies are stored once per service, zlib-compressed, and come back exactly (issue 13's footprint).

The migrations convert rows already stored in the old form both ways; they run on SQLite and,
in the integration tier, on PostgreSQL.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    inspect,
    select,
    text,
)

from services import registry
from services.content.models import Publication
from services.kernel import migrations
from services.kernel.columns import CompressedJSON, CompressedText
from services.kernel.db import Database
from services.resources.models import ResourceVersion
from services.resources.service.resources import stored_text
from services.search.models import SearchDocument
from tests.support import real

# Varied enough that zlib cannot collapse it to nothing, yet ordinary statute prose.
ARTICLE = "第{n}条　县级以上地方各级人民政府应当加强对政府网站工作的领导，将所需经费列入本级财政预算。"
LARGE = "\n".join(ARTICLE.format(n=n) for n in range(1, 30_001))  # ~4.4 MB of UTF-8
BODIES = ["", "正文", "含扩展汉字𠀀𪚥与表情😀，以及 ASCII & <p>标记</p>", LARGE]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def database_url(request: pytest.FixtureRequest) -> str:
    return "" if request.param == "sqlite" else await real.fresh_postgres_database()


async def test_compressed_text_round_trips_and_stores_zlib(tmp_path: Path) -> None:
    metadata = MetaData()
    docs = Table("docs", metadata, Column("id", Integer, primary_key=True), Column("body", CompressedText))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.session() as s:
        await s.execute(insert(docs), [{"id": i, "body": b} for i, b in enumerate(BODIES)])
        await s.execute(insert(docs).values(id=99, body=None))
    async with db.session() as s:
        raw = dict((await s.execute(text("SELECT id, body FROM docs"))).all())
        back = dict((await s.execute(select(docs.c.id, docs.c.body))).all())
    await db.dispose()
    for i, body in enumerate(BODIES):
        assert isinstance(raw[i], bytes) and zlib.decompress(raw[i]).decode() == body
        assert back[i] == body
    assert raw[99] is None and back[99] is None
    assert len(raw[3]) < len(LARGE.encode()) / 5


async def test_compressed_json_round_trips(tmp_path: Path) -> None:
    metadata = MetaData()
    docs = Table("docs", metadata, Column("id", Integer, primary_key=True), Column("doc", CompressedJSON))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    value = {"title": "关于道路施工的通告", "body_text": LARGE, "keywords": ["施工", "𠀀"], "n": 3, "x": None}
    async with db.session() as s:
        await s.execute(insert(docs).values(id=1, doc=value))
    async with db.session() as s:
        raw = (await s.execute(text("SELECT doc FROM docs"))).scalar_one()
        back = (await s.execute(select(docs.c.doc))).scalar_one()
    await db.dispose()
    assert back == value
    assert '"关于道路施工的通告"' in zlib.decompress(raw).decode()  # UTF-8 inside, not \\u escapes
    assert len(raw) < len(LARGE.encode()) / 5


async def _migrated(
    service: str, tmp_path: Path, database_url: str, revision: str
) -> tuple[Any, Any, Database]:
    module = registry.get(service).app_module
    settings = module.settings_class(data_dir=tmp_path, database_url=database_url)
    cfg = migrations.alembic_config(service, module.MIGRATIONS, settings)
    await migrations.upgrade(cfg, revision)
    db = Database(settings.service_database_url(service), settings.database_schema(service))
    return cfg, module, db


async def _columns(db: Database, table: str) -> dict[str, str]:
    async with db.engine.connect() as conn:
        cols = await conn.run_sync(lambda c: inspect(c).get_columns(table))
    return {c["name"]: type(c["type"]).__name__ for c in cols}


async def test_content_migration_compresses_publication_bodies_and_back(
    tmp_path: Path, database_url: str
) -> None:
    cfg, _, db = await _migrated("content", tmp_path, database_url, "content_0003")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [
        {"id": i + 1, "site_id": "sfs", "column_id": 1, "status": "published", "title": f"第{i}篇",
         "body_html": f"<p>{b}</p>", "body_text": b, "meta": "{}", "attachments": "[]", "important": False,
         "review_round": 0, "review_step": 0, "review_chain": "[]", "created_by": "u", "created_at": now}
        for i, b in enumerate(BODIES)
    ]  # fmt: skip
    columns = ", ".join(rows[0])
    values = ", ".join(f":{k}" for k in rows[0])
    async with db.session() as s:
        await s.execute(text(f"INSERT INTO publication ({columns}) VALUES ({values})"), rows)
    await db.dispose()

    await migrations.upgrade(cfg, "content_0004_footprint")
    assert "body_html" in await _columns(db, "publication")
    if db.is_sqlite:  # the rewritten table's old pages are given back to the file system
        async with db.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA freelist_count")).scalar_one() == 0
    async with db.session() as s:
        stored = (await s.execute(text("SELECT id, body_html, body_text FROM publication ORDER BY id"))).all()
    for row, body in zip(stored, BODIES, strict=True):
        assert zlib.decompress(row.body_html).decode() == f"<p>{body}</p>"
        assert zlib.decompress(row.body_text).decode() == body
    async with db.session() as s:
        # the model's column type reads them back (only this column: the model is at head)
        texts = (await s.execute(select(Publication.body_text).order_by(Publication.id))).scalars().all()  # type: ignore[arg-type]
    assert list(texts) == BODIES

    await migrations.downgrade(cfg, "content_0003")
    async with db.session() as s:
        restored = (await s.execute(text("SELECT body_html, body_text FROM publication ORDER BY id"))).all()
    await db.dispose()
    assert [tuple(r) for r in restored] == [(f"<p>{b}</p>", b) for b in BODIES]


async def test_resources_migration_keeps_one_compressed_body_and_back(
    tmp_path: Path, database_url: str
) -> None:
    cfg, _, db = await _migrated("resources", tmp_path, database_url, "resources_0003")
    html = "<p>第一条　为了规范政府网站。</p><p>第二条　本办法自公布之日起施行。</p>"
    # What 入库 extracted (full-width spaces folded): the text a downgrade must recreate.
    plain = "第一条 为了规范政府网站。\n\n第二条 本办法自公布之日起施行。"
    async with db.session() as s:
        await s.execute(
            text(
                "INSERT INTO resource (id, owner_site, owner_org, scope, status, latest_version, created_by,"
                " created_at, updated_at) VALUES (1, 'sfs', 'org', 'public', 'stored', 2, 'u', 0, 0)"
            )
        )
        await s.execute(
            text(
                "INSERT INTO resource_version (id, resource_id, version, status, schema_version, metadata,"
                " body_html, body_text, findings, created_by, created_at)"
                " VALUES (:id, 1, :id, :status, 1, '{}', :html, :text, '[]', 'u', 0)"
            ),
            [
                {"id": 1, "status": "stored", "html": html, "text": plain},
                {"id": 2, "status": "draft", "html": LARGE, "text": ""},
            ],
        )
    await db.dispose()

    await migrations.upgrade(cfg, "resources_0004_footprint")
    assert "body_text" not in await _columns(db, "resource_version")
    async with db.session() as s:
        stored = (await s.execute(text("SELECT body_html FROM resource_version ORDER BY id"))).scalars().all()
    assert [zlib.decompress(b).decode() for b in stored] == [html, LARGE]
    assert len(stored[1]) < len(LARGE.encode()) / 5

    async with db.session() as s:
        versions = (await s.execute(select(ResourceVersion).order_by(ResourceVersion.id))).scalars().all()  # type: ignore[arg-type]
    assert [stored_text(v) for v in versions] == [plain, ""]

    await migrations.downgrade(cfg, "resources_0003")
    async with db.session() as s:
        restored = (
            await s.execute(text("SELECT body_html, body_text FROM resource_version ORDER BY id"))
        ).all()
    await db.dispose()
    assert [tuple(r) for r in restored] == [
        (html, plain),
        (LARGE, ""),
    ]


async def test_search_migration_compresses_payloads_and_back(tmp_path: Path, database_url: str) -> None:
    cfg, _, db = await _migrated("search", tmp_path, database_url, "search_0002")
    payloads = [{"publication_id": i + 1, "title": f"第{i}篇", "body_text": b} for i, b in enumerate(BODIES)]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    table = Table(
        "search_document", MetaData(), Column("publication_id", Integer), Column("resource_id", Integer),
        Column("site", String), Column("status", String), Column("payload", JSON), Column("revision", Integer),
        Column("dirty", Boolean), Column("updated_at", DateTime(timezone=True)),
    )  # fmt: skip
    async with db.session() as s:
        await s.execute(
            insert(table),
            [{"publication_id": p["publication_id"], "resource_id": 1, "site": "sfs", "status": "published",
              "payload": p, "revision": 0, "dirty": False, "updated_at": now} for p in payloads],
        )  # fmt: skip
    await db.dispose()

    await migrations.upgrade(cfg, "search_0003_footprint")
    async with db.session() as s:
        raw = (
            (await s.execute(text("SELECT payload FROM search_document ORDER BY publication_id")))
            .scalars()
            .all()
        )
    assert [json.loads(zlib.decompress(r)) for r in raw] == payloads
    assert len(raw[3]) < len(LARGE.encode()) / 5
    async with db.session() as s:
        docs = (
            (await s.execute(select(SearchDocument).order_by(SearchDocument.publication_id))).scalars().all()
        )  # type: ignore[arg-type]
    assert [d.payload for d in docs] == payloads

    await migrations.downgrade(cfg, "search_0002")
    async with db.session() as s:
        restored = (await s.execute(select(table.c.payload).order_by(table.c.publication_id))).scalars().all()
    await db.dispose()
    assert restored == payloads
