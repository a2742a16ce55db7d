"""An index built before the bigram and identifier fields existed is replaced and refilled on
start, on both engines, instead of refusing to open (tantivy) or every write (strict ES)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import tantivy

from services.search.backends.elastic import INDEX_SETTINGS, MAPPINGS
from tests.search.conftest import search_harness
from tests.search.fakes import FakeContent
from tests.support.tokens import TestIssuer

NEW_FIELDS = ("title_bi", "body_bi", "ids")


async def _make_old_index(backend: object, name: str) -> None:
    if name == "tantivy":
        root: Path = backend.root  # type: ignore[attr-defined]
        await backend.close()  # type: ignore[attr-defined]
        live = root / (root / "CURRENT").read_text().strip()
        shutil.rmtree(live)
        live.mkdir()
        old = tantivy.SchemaBuilder()
        old.add_integer_field("id", stored=True, indexed=True, fast=True)
        tantivy.Index(old.build(), path=str(live))
        return
    es = backend.es  # type: ignore[attr-defined]
    alias = backend.alias  # type: ignore[attr-defined]
    current = list((await es.indices.get_alias(name=alias)).body)
    props = {k: v for k, v in MAPPINGS["properties"].items() if k not in NEW_FIELDS}
    excludes = [f for f in MAPPINGS["_source"]["excludes"] if f not in NEW_FIELDS]
    legacy = f"{alias}_legacy"  # outside the template's pattern, as an old index would be
    await es.indices.create(
        index=legacy,
        settings=INDEX_SETTINGS,
        mappings={**MAPPINGS, "properties": props, "_source": {"excludes": excludes}},
    )
    await es.indices.update_aliases(
        actions=[
            *({"remove": {"index": i, "alias": alias}} for i in current),
            {"add": {"index": legacy, "alias": alias}},
        ]
    )
    for index in current:
        await es.indices.delete(index=index)


async def test_an_index_of_the_older_schema_is_rebuilt_from_the_recorded_documents(
    tmp_path: Path, issuer: TestIssuer, backend_name: str
) -> None:
    content = FakeContent()
    for i in range(1, 6):
        content.publish(i, title=f"西城区人民政府办公室政务公开文件{i}", body_text="依据国办发[2017]47号执行")
    prefix = f"jiyue-test-upgrade-{uuid.uuid4().hex[:10]}"
    async with search_harness(
        tmp_path, issuer, backend_name, content, keep_index=True, search_index_prefix=prefix
    ) as first:
        await first.catch_up()
        assert first.backend.schema_reset is False
        await _make_old_index(first.backend, backend_name)
    async with search_harness(tmp_path, issuer, backend_name, content, search_index_prefix=prefix) as second:
        assert second.backend.schema_reset is True
        await second.catch_up()
        assert (await second.search("区人民政府办公室")).json()["total"] == 5
        assert (await second.search("国办发（2017）47号")).json()["total"] == 5
