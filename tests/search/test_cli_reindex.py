"""`jiyue search reindex` on the embedded default runs content and identity in its own process."""

from __future__ import annotations

from typer.testing import CliRunner

from gateway import migrate
from services.search.cli import _reindex, app


async def test_reindex_reads_content_in_process_with_a_verified_internal_token() -> None:
    # JIYUE_DATA_DIR points at a fresh folder (tests/conftest.py): migrate it as `jiyue migrate` would.
    await migrate.migrate()

    assert await _reindex(50) == 0  # nothing published yet, but content accepted our token


def test_reindex_command_is_registered() -> None:
    result = CliRunner().invoke(app, ["reindex", "--help"])
    assert result.exit_code == 0 and "--page-size" in result.output
