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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly whether the real-server tier ran, so a CI log shows it was not skipped."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            if "integration" in getattr(report, "keywords", {}) and report.when in ("call", "setup"):
                if outcome != "passed" or report.when == "call":
                    counts[outcome] += 1
    total = sum(counts.values())
    if total:
        terminalreporter.write_line(
            "integration tier (real PostgreSQL / Elasticsearch / MinIO): "
            f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
        )
