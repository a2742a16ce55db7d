"""The audit chain shows tampering; rotated keys keep old tokens valid until they expire."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.identity.cli import app as identity_cli
from services.identity.service import audit, keys
from tests.identity.helpers import API, bearer, internal_token, make_user, user_token
from tests.support.platform import Platform


async def _cli(*args: str) -> tuple[int, str]:
    # The CLI runs its own event loop; give it a thread of its own.
    result = await asyncio.to_thread(CliRunner().invoke, identity_cli, list(args))
    return result.exit_code, result.output + (repr(result.exception) if result.exit_code > 1 else "")


@pytest.fixture(autouse=True)
def _cli_reads_the_platform_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JIYUE_DATA_DIR", str(tmp_path))


async def test_editing_one_audit_row_is_reported_by_verify_audit(platform: Platform, tmp_path: Path) -> None:
    internal = await internal_token(platform.client, platform.settings)
    await make_user(platform.client, internal, "shenji", [("editor", "jtj")])
    await make_user(platform.client, internal, "hanmei", [("reviewer", "jtj")])
    code, output = await _cli("verify-audit")
    assert code == 0 and "校验通过" in output, output

    db = sqlite3.connect(tmp_path / "identity.db")
    seq = db.execute(
        "SELECT seq FROM audit_entry WHERE action = 'role.granted' ORDER BY seq LIMIT 1"
    ).fetchone()[0]
    db.execute(
        "UPDATE audit_entry SET detail = ? WHERE seq = ?", ('{"role": "site_admin", "site": "jtj"}', seq)
    )
    db.commit()
    code, output = await _cli("verify-audit")
    assert code == 1 and f"序号 {seq}" in output and "被修改" in output, output

    aud = await platform.client.get(f"{API}/audit/verify", headers=bearer(internal))
    assert aud.json()["ok"] is False and aud.json()["first_broken_seq"] == seq
    db.close()


@pytest.mark.parametrize("where", ["middle", "tail"])
async def test_deleting_an_audit_row_is_detected(platform: Platform, tmp_path: Path, where: str) -> None:
    internal = await internal_token(platform.client, platform.settings)
    await make_user(platform.client, internal, "lvbu")
    db = sqlite3.connect(tmp_path / "identity.db")
    last = db.execute("SELECT max(seq) FROM audit_entry").fetchone()[0]
    victim = 2 if where == "middle" else last
    db.execute("DELETE FROM audit_entry WHERE seq = ?", (victim,))
    db.commit()
    db.close()
    ctx = platform.gateway.local_apps["identity"].state.ctx
    async with ctx.db.session() as session:
        report = await audit.verify_chain(session)
    assert not report.ok and report.first_broken_seq == (3 if where == "middle" else last)


async def test_rotated_key_keeps_old_tokens_valid_until_they_expire(platform: Platform) -> None:
    for verifier in [
        platform.gateway.verifier,
        *(a.state.ctx.verifier for a in platform.gateway.local_apps.values()),
    ]:
        verifier.refetch_interval = 0  # see the new kid at once (production: at most 10 s later)
    internal = await internal_token(platform.client, platform.settings)
    _, password = await make_user(platform.client, internal, "rotator", [("security_admin", None)])
    before = await user_token(platform.client, "rotator", password)
    assert (await platform.client.get(f"{API}/userinfo", headers=bearer(before))).status_code == 200
    old_kids = {k["kid"] for k in (await platform.client.get("/.well-known/jwks.json")).json()["keys"]}

    code, output = await _cli("rotate-keys")
    assert code == 0, output
    jwks = (await platform.client.get("/.well-known/jwks.json")).json()["keys"]
    assert len(jwks) == 2 and old_kids < {k["kid"] for k in jwks}

    after = await user_token(platform.client, "rotator", password)
    for token in (before, after):
        assert (await platform.client.get(f"{API}/userinfo", headers=bearer(token))).status_code == 200
        assert (
            await platform.client.get("/api/content/v1/changes", headers=bearer(token))
        ).status_code == 403

    ctx = platform.gateway.local_apps["identity"].state.ctx
    async with ctx.db.session() as session:
        published = await keys.published_keys(session)
        retired = [k for k in published if k.status == "retired"]
        assert len(retired) == 1 and retired[0].kid in old_kids
        assert retired[0].retire_after is not None
        # It stays published for the access-token lifetime (+1 min skew), then it is pruned.
        assert 600 <= retired[0].retire_after - time.time() <= 661
        assert retired[0].kid in {
            k.kid for k in await keys.published_keys(session, retired[0].retire_after - 1)
        }
        assert await keys.prune(session, retired[0].retire_after + 1) == 1
    remaining = (await platform.client.get("/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in remaining] == [k["kid"] for k in jwks if k["kid"] not in old_kids]

    audit_rows = await platform.client.get(
        f"{API}/audit", params={"action": "key.rotated"}, headers=bearer(internal)
    )
    assert audit_rows.json()["total"] == 1


async def test_private_keys_are_encrypted_at_rest(platform: Platform, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "identity.db")
    stored = [row[0] for row in db.execute("SELECT private_key_encrypted FROM signing_key")]
    db.close()
    assert stored and all("PRIVATE KEY" not in blob for blob in stored)
    assert (tmp_path / "secrets" / "identity-kek.secret").exists()
