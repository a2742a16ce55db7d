from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.identity.helpers import FAST_ARGON2
from tests.support.platform import Platform


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production argon2 costs 64 MiB per hash; tests use the cheapest parameters."""
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with Platform.start(tmp_path) as p:
        yield p
