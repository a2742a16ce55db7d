"""Mirror → bundle → `jiyue import`: the old site's items published in their columns with their
dates, 文号 and attachments, each 解读 related to its policy, and the old URLs answering 301."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from gateway.importer.runner import Importer
from services.content.service.mirror import Mapping, convert_mirror
from tests.identity.helpers import FAST_ARGON2
from tests.migration.helpers import DOMAIN, SITE, platform_with_site
from tests.mirror.sitegen import MAPPING_TOML, make_site

API = "/api/content/v1"


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


def _mapping() -> Mapping:
    # The importer's test site keeps these columns under 信息公开 (xxgk).
    text = MAPPING_TOML
    for code in ("zcwj", "zcjd", "tzgg"):
        text = text.replace(f'column = "{code}"', f'column = "xxgk/{code}"')
    return Mapping.model_validate(tomllib.loads(text))


async def _publications(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = (
            await client.get(f"{API}/sites/{SITE}/publications?size=100&page={page}", headers=headers)
        ).json()
        found += answer["items"]
        if len(found) >= answer["total"] or not answer["items"]:
            return found
        page += 1


async def test_a_mirrored_site_imports_with_columns_relations_and_old_urls(tmp_path: Path) -> None:
    site = make_site(tmp_path / "mirror")
    bundle = tmp_path / "bundle"
    convert_mirror(site.root, _mapping(), bundle)
    # The page whose attachment the mirror lacks is refused by the importer, and so is the 解读
    # of that policy (its relation names an item that is not there); everything else goes live.
    lost = "/" + next(k for k, kinds in site.notes.items() if kinds == {"missing_attachment"})
    orphan = next(k for k, e in site.items.items() if ("interprets", lost) in e.relations)
    async with platform_with_site(tmp_path) as target:
        async with target.client() as client:
            outcome = await Importer(client, SITE, batch=20, approval="原网站信息，迁移前已核对").run(bundle)
        failed = {f["source_key"]: f["reason"] for f in outcome.failures}
        assert failed == {lost: "missing_attachment", orphan: "unknown_relation"}
        assert outcome.imported == len(site.items) - 2

        c = target.platform.client
        by_title = {p["title"]: p for p in await _publications(c, target.admin)}
        assert len(by_title) == outcome.imported
        live = {key: by_title[want.title] for key, want in site.items.items() if key not in failed}
        for key, pub in live.items():
            want = site.items[key]
            assert pub["column_id"] == target.columns[want.column], key
            assert pub["status"] == ("archived" if want.archived else "published"), key
            assert pub["published_at"] == want.published_at, key
            assert pub["metadata"].get("doc_no") == want.doc_number, key
            assert sorted(a["filename"] for a in pub["attachments"]) == sorted(
                n for _, n in want.attachments
            ), key
            interprets = [other for kind, other in want.relations if kind == "interprets"]
            assert pub["metadata"]["relations"] == [
                {"type": "interpretation-of", "resource_id": live[other]["resource_id"]}
                for other in interprets
            ], key

        for key, pub in live.items():
            moved = await c.get(key, headers={"Host": DOMAIN})
            assert moved.status_code == 301, key
            assert moved.headers["location"] == f"{API}/items/{pub['id']}"
        assert (await c.get(lost, headers={"Host": DOMAIN})).status_code == 404
