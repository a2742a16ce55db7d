from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.tokens import TestIssuer

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cn-laws-regulations.jsonl.gz"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own JIYUE_* settings or writes to ./var."""
    for key in list(os.environ):
        if (
            key.startswith("JIYUE_")
            and not key.startswith("JIYUE_TEST_")
            and key != "JIYUE_REQUIRE_REAL_SERVICES"
        ):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("JIYUE_DATA_DIR", str(tmp_path / "var"))


@pytest.fixture
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
def corpus_path() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"corpus not found at {SHARED_DATA} (../shared/data); test needs the legal-text corpus")
    return SHARED_DATA
