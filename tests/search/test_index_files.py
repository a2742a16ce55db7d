"""A closed tantivy index folder holds only the segments its meta.json lists.

Merges that end after the last commit used to leave their output behind: half the index folder
after the corpus import (issue 13's footprint) was segments nothing read.
"""

from __future__ import annotations

import json
from pathlib import Path

import tantivy

from services.search.backends.tantivy_backend import _Generation, build_schema


def orphans(folder: Path) -> list[str]:
    meta = json.loads((folder / "meta.json").read_text())
    live = {seg["segment_id"].replace("-", "") for seg in meta["segments"]}
    files = [p.name for p in folder.iterdir() if "." in p.name and not p.name.endswith((".json", ".lock"))]
    return [name for name in files if not name.startswith(".") and name.split(".")[0] not in live]


def test_a_closed_generation_keeps_no_merged_away_segments(tmp_path: Path) -> None:
    schema = build_schema()
    for attempt in range(3):  # a merge racing the close is a matter of timing: try it a few times
        gen = _Generation(tmp_path / f"gen-{attempt}", schema, 50_000_000)
        for batch in range(30):
            for n in range(200):
                doc = tantivy.Document()
                doc.add_integer("id", batch * 1000 + n)
                doc.add_text("title", f"示范市 政务 公开 第{batch}批 第{n}篇 " * 50)
                gen.writer.add_document(doc)
            gen.writer.commit()
        unsaved = tantivy.Document()
        unsaved.add_integer("id", 999_999)
        gen.writer.add_document(unsaved)  # never committed: closing must not save it
        gen.close()
        assert orphans(gen.path) == [], attempt
        searcher = tantivy.Index(schema, path=str(gen.path)).searcher()
        assert searcher.num_docs == 30 * 200
