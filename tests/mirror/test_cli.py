"""`jiyue import-mirror`: a bundle and a report from the command line; a bad mapping stops it early."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import app
from services.content.service.mirror import ITEMS, REPORT
from tests.mirror.sitegen import MAPPING_TOML, make_site


def test_import_mirror_writes_bundle_and_report(tmp_path: Path) -> None:
    site = make_site(tmp_path / "mirror")
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAPPING_TOML, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["import-mirror", str(site.root), "--mapping", str(mapping), "--out", str(tmp_path / "b")]
    )
    assert result.exit_code == 0, result.output
    assert f"条目 {len(site.items)}" in result.output
    assert "no_title_match: 1" in result.output
    assert len((tmp_path / "b" / ITEMS).read_text(encoding="utf-8").splitlines()) == len(site.items)
    assert json.loads((tmp_path / "b" / REPORT).read_text(encoding="utf-8"))["items"] == len(site.items)


def test_a_bad_mapping_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "mirror").mkdir()
    mapping = tmp_path / "map.toml"
    mapping.write_text('base_url = "www.x.gov.cn"\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["import-mirror", str(tmp_path / "mirror"), "--mapping", str(mapping), "--out", str(tmp_path / "b")],
    )
    assert result.exit_code == 2
    assert "映射文件有误" in result.output
    assert not (tmp_path / "b").exists()
