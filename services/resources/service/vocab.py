"""Controlled vocabularies (主题分类, 体裁分类): a shipped file an operator folder extends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.resources.review.lexicon import SHIPPED_DIR


@dataclass(frozen=True)
class Vocabularies:
    topics: dict[str, dict[str, Any]]
    genres: dict[str, dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "topics": list(self.topics.values()),
            "genres": list(self.genres.values()),
        }


def _merge(into: dict[str, dict[str, Any]], items: list[dict[str, Any]]) -> None:
    for item in items:
        into[str(item["code"])] = {**into.get(str(item["code"]), {}), **item}


@lru_cache(maxsize=8)
def load_vocabularies(extra_dir: Path | None = None) -> Vocabularies:
    topics: dict[str, dict[str, Any]] = {}
    genres: dict[str, dict[str, Any]] = {}
    files = [SHIPPED_DIR / "vocabularies.json"]
    if extra_dir is not None and (Path(extra_dir) / "vocabularies.json").exists():
        files.append(Path(extra_dir) / "vocabularies.json")
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        _merge(topics, data.get("topics", []))
        _merge(genres, data.get("genres", []))
    return Vocabularies(topics=topics, genres=genres)
