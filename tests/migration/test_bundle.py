"""Reading a bundle: each line judged on its own, dates read as Beijing time, paths kept inside."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.importer.bundle import Item, Line, Rejected, read_bundle
from gateway.importer.mapping import metadata
from tests.migration.helpers import item, write_bundle


def test_dates_and_paths(tmp_path: Path) -> None:
    lines = [
        item(1, published_at="2019-03-06T09:30:00"),
        item(2, published_at="2019-03-06"),
        item(3, attachments=[{"path": "../secret.pdf"}]),
        item(4, archived_at="2024-01-01T00:00:00"),
        json.dumps([1, 2]),
        "",
        item(6, extra_field=1),
    ]
    read = list(read_bundle(write_bundle(tmp_path, lines)))
    ok = [r for r in read if isinstance(r, Line)]
    assert [r.item.published_at.isoformat() for r in ok] == [
        "2019-03-06T09:30:00+08:00",
        "2019-03-06T00:00:00+08:00",
    ]
    rejected = {r.number: r.reason for r in read if isinstance(r, Rejected)}
    assert rejected == {3: "invalid", 4: "invalid", 5: "malformed", 7: "invalid"}


def test_metadata_keeps_what_the_old_site_said() -> None:
    line = item(
        1,
        doc_number="示交发[2019]3号",
        validity="repealed",
        events=[{"kind": "公布", "date": "2019-03-05"}, {"kind": "废止", "date": "2023-01-01"}],
        topics=["gongye"],
        index_number="11210600MB0000000A/2019-00012",
        published_at="2019-03-05T23:30:00+00:00",
    )
    meta = metadata(Item.model_validate(line), "jtj", "示范市交通运输局", [7])
    assert meta["published_at"] == "2019-03-06"  # 23:30 UTC is the next morning in Beijing
    assert meta["validity"] == "废止" and meta["topic"] == "gongye"
    assert [h["kind"] for h in meta["history"]] == ["公布", "废止"]
    assert meta["relations"] == [{"type": "interpretation-of", "resource_id": 7}]
    assert meta["genre"] == "jiedu" and meta["issuer_org"] == {"code": "JTJ", "name": "示范市交通运输局"}
    assert meta["source"] == "原索引号 11210600MB0000000A/2019-00012"
