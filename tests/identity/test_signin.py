"""Lockout, per-address back-off, no account enumeration, password policy, registration."""

from __future__ import annotations

import time

import pytest

from services.identity.models import User
from services.identity.service.runtime import IdentityRuntime
from tests.identity.helpers import API, bearer, internal_token, make_user, password_login
from tests.support.platform import Platform


async def test_five_failures_lock_the_account_for_fifteen_minutes(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    user_id, password = await make_user(platform.client, admin, "sunshi")
    for _ in range(4):
        assert (await password_login(platform.client, "sunshi", "Wrong-pass-1")).status_code == 400
    assert (await password_login(platform.client, "sunshi", password)).status_code == 200  # resets the count
    for _ in range(5):
        assert (await password_login(platform.client, "sunshi", "Wrong-pass-1")).status_code == 400
    locked = await password_login(platform.client, "sunshi", password)
    assert locked.status_code == 400  # even the right password is refused while locked
    user = (await platform.client.get(f"{API}/users/{user_id}", headers=bearer(admin))).json()
    assert user["locked"] is True
    audit = await platform.client.get(
        f"{API}/audit", params={"action": "account.locked"}, headers=bearer(admin)
    )
    assert audit.json()["total"] == 1

    identity = platform.gateway.local_apps["identity"].state.ctx

    async with identity.db.session() as session:
        row = await session.get(User, user_id)
        assert row is not None and row.locked_until is not None
        assert 14 * 60 < row.locked_until - time.time() <= 15 * 60
        row.locked_until = time.time() - 1  # fifteen minutes later
    assert (await password_login(platform.client, "sunshi", password)).status_code == 200


async def test_answers_never_reveal_whether_an_account_exists(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await internal_token(platform.client, platform.settings)
    await make_user(platform.client, admin, "zhengyi")
    for _ in range(5):
        await password_login(platform.client, "zhengyi", "Wrong-pass-1")  # now locked
    await make_user(platform.client, admin, "qianer")

    def shape(resp: object) -> tuple[int, str]:
        return resp.status_code, resp.text  # type: ignore[attr-defined]

    unknown = shape(await password_login(platform.client, "nobody-here", "Wrong-pass-1"))
    wrong = shape(await password_login(platform.client, "qianer", "Wrong-pass-1"))
    locked = shape(await password_login(platform.client, "zhengyi", "Wrong-pass-1"))
    assert unknown == wrong == locked
    assert "用户名或密码错误" in unknown[1]

    # An unknown name still costs one argon2 verification, exactly as a known one does: the
    # work is counted, not timed (a timing assertion only measures the machine's load).
    runtime = platform.gateway.local_apps["identity"].state.ctx.state_of(IdentityRuntime)
    context = runtime.passwords.context
    verified: list[str] = []
    real_verify = context.verify

    def counting_verify(*args: object, **kwargs: object) -> bool:
        verified.append("argon2")
        return bool(real_verify(*args, **kwargs))

    monkeypatch.setattr(context, "verify", counting_verify)
    for username in ("qianer", "ghost-user"):
        verified.clear()
        await password_login(platform.client, username, "Wrong-pass-1")
        assert verified == ["argon2"], username


async def test_one_address_failing_too_often_must_wait(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = platform.gateway.local_apps["identity"].state.ctx
    identity.state_of(IdentityRuntime).settings.address_failure_threshold = 3
    for i in range(3):
        resp = await password_login(platform.client, f"someone{i}", "Wrong-pass-1")
        assert resp.status_code == 400
    throttled = await password_login(platform.client, "someone9", "Wrong-pass-1")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1-", "至少 8 位"),
        ("abcdefgh1", "至少三类"),
        ("ABCDEFGHIJ", "至少三类"),
        ("citizen01-Ab", "不能包含用户名"),
    ],
)
async def test_registration_enforces_the_password_policy(
    platform: Platform, password: str, message: str
) -> None:
    resp = await platform.client.post(
        f"{API}/register", json={"username": "citizen01", "password": password, "display_name": "市民"}
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["errors"][0]["field"] == "password" and message in body["errors"][0]["message"]


async def test_a_citizen_registers_and_signs_in(platform: Platform) -> None:
    resp = await platform.client.post(
        f"{API}/register",
        json={"username": "citizen01", "password": "Hello-World-2024", "display_name": "市民甲"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["kind"] == "citizen"
    again = await platform.client.post(
        f"{API}/register",
        json={"username": "citizen01", "password": "Hello-World-2024", "display_name": "市民甲"},
    )
    assert again.status_code == 409
    token = (await password_login(platform.client, "citizen01", "Hello-World-2024")).json()["access_token"]
    info = (await platform.client.get(f"{API}/userinfo", headers=bearer(token))).json()
    assert info["roles"] == [{"role": "citizen", "site": None}]
