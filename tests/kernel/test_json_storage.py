"""JSON columns store Chinese as UTF-8, not as \\u escapes (half the bytes on disk)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text

from services.kernel.db import Database


async def test_json_columns_keep_chinese_unescaped(tmp_path: Path) -> None:
    metadata = MetaData()
    docs = Table("docs", metadata, Column("id", Integer, primary_key=True), Column("body", JSON))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}")
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with db.session() as s:
        await s.execute(insert(docs).values(id=1, body={"title": "关于道路施工的通告"}))
    async with db.session() as s:
        raw = (await s.execute(text("SELECT body FROM docs"))).scalar_one()
        value = (await s.execute(select(docs.c.body))).scalar_one()
    await db.dispose()
    assert raw == '{"title":"关于道路施工的通告"}'
    assert value == {"title": "关于道路施工的通告"}
