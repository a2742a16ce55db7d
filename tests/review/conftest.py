from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"


def _shared(env: str, default: Path) -> Path:
    return Path(os.environ[env]) if os.environ.get(env) else default


@pytest.fixture
def corpus_file() -> Path:
    """The legal corpus beside the project; JIYUE_TEST_CORPUS points elsewhere (a worktree)."""
    path = _shared("JIYUE_TEST_CORPUS", SHARED / "data" / "cn-laws-regulations.jsonl.gz")
    if not path.exists():
        pytest.skip(f"corpus not found at {path} (../shared/data); test needs the legal-text corpus")
    return path


@pytest.fixture
def seed_texts() -> list[str]:
    folder = _shared("JIYUE_TEST_SEED_DIR", SHARED / "seed")
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    if not texts:
        pytest.skip(f"no seed regulation in {folder} (../shared/seed)")
    return texts


# The resources service fixtures (a running service, its client, the test actors).
from tests.resources.conftest import actors, client, service  # noqa: E402, F401
