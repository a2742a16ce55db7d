"""Identity under abuse: bounded hashing memory, per-client back-off, purged tables, Secure cookies."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
import threading
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psutil
import pytest
from sqlalchemy import func, select

from services.identity.models import AddressThrottle, AuthorizationCode, RefreshToken, SsoSession, User
from services.kernel import clock
from services.kernel.addresses import throttle_key
from tests.identity.helpers import API, bearer, internal_token, make_user, password_login
from tests.identity.oidc import hidden_fields
from tests.support.services import running_service, service_settings

MIB = 1024 * 1024


class PeakRss:
    """The process's highest resident size while the block runs, sampled every 2 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process(os.getpid())
        self.base = self.peak = self.process.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.base) / MIB


async def test_fifty_concurrent_sign_ins_stay_within_the_hash_memory_budget(tmp_path: Path) -> None:
    # 48 MiB per hash and a 96 MiB budget: two hashes at a time, whatever arrives.
    hashing = {
        "argon2_memory_cost": 48 * 1024,
        "argon2_time_cost": 1,
        "argon2_parallelism": 1,
        "identity_hash_memory_mb": 96,
        "identity_hash_wait_seconds": 0.3,
    }
    async with running_service("identity", tmp_path, **hashing) as (_app, client):
        internal = await internal_token(client, service_settings("identity", tmp_path))
        _, password = await make_user(client, internal, "crowd")
        with PeakRss() as rss:
            answers = await asyncio.gather(*(password_login(client, "crowd", password) for _ in range(50)))
        statuses = [r.status_code for r in answers]
        assert set(statuses) <= {200, 503}, [r.text for r in answers if r.status_code not in (200, 503)]
        assert 200 in statuses
        for busy in (r for r in answers if r.status_code == 503):
            assert busy.headers["content-type"].startswith("application/problem+json")
            assert int(busy.headers["retry-after"]) >= 1
        print(
            f"50 sign-ins: {statuses.count(200)}x200 {statuses.count(503)}x503, RSS +{rss.growth_mib:.0f} MiB"
        )
        # Two 48 MiB hashes plus slack for the responses; unbounded, six threads need ~290 MiB.
        assert rss.growth_mib < 170, f"RSS grew {rss.growth_mib:.0f} MiB ({statuses.count(503)} answered 503)"
        # Afterwards the service works as before.
        assert (await password_login(client, "crowd", password)).status_code == 200


def test_throttle_key_groups_ipv6_by_64_and_unmaps_ipv4() -> None:
    assert throttle_key("198.51.100.7") == "198.51.100.7"
    assert throttle_key("2001:db8:1:2:a:b:c:d") == "2001:db8:1:2::/64"
    assert throttle_key("2001:db8:1:2::99") == throttle_key("2001:db8:1:2:ffff::1")
    assert throttle_key("2001:db8:1:3::1") != throttle_key("2001:db8:1:2::1")
    assert throttle_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert throttle_key("[2001:db8::1]") == "2001:db8::/64"
    assert throttle_key("unknown") == "unknown"


async def test_address_back_off_is_per_client_address(tmp_path: Path) -> None:
    async with running_service("identity", tmp_path, address_failure_threshold=3) as (_app, client):
        internal = await internal_token(client, service_settings("identity", tmp_path))
        _, password = await make_user(client, internal, "neighbour")

        async def login(address: str, pw: str) -> httpx.Response:
            return await client.post(
                f"{API}/token",
                data={
                    "grant_type": "password",
                    "client_id": "jiyue-console",
                    "username": "neighbour",
                    "password": pw,
                },
                headers={"x-jiyue-client-ip": address},
            )

        try:
            # Six failures of one IPv6 host (spread out, each past the previous back-off), with
            # usernames that do not exist so no account locks: its /64 now waits 8 s.
            for _ in range(6):
                wrong = await client.post(
                    f"{API}/token",
                    data={
                        "grant_type": "password",
                        "client_id": "jiyue-console",
                        "username": "nobody-x",
                        "password": "Wrong-pass-1",
                    },
                    headers={"x-jiyue-client-ip": "2001:db8:1:2::10"},
                )
                assert wrong.status_code == 400, wrong.text
                clock.shift(timedelta(seconds=10))
            clock.shift(timedelta(seconds=-10))
            same_host = await login("2001:db8:1:2:aaaa::99", password)
            assert same_host.status_code == 429 and int(same_host.headers["retry-after"]) >= 1
            # Other clients behind the same gateway are not affected.
            assert (await login("2001:db8:1:3::10", password)).status_code == 200
            assert (await login("198.51.100.7", password)).status_code == 200
        finally:
            clock.reset()


async def _count(session: object, model: type) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())  # type: ignore[attr-defined]


async def test_expired_rows_are_purged_periodically(tmp_path: Path) -> None:
    async with running_service(
        "identity", tmp_path, run_workers=True, identity_purge_interval_seconds=0.05
    ) as (app, _client):
        db = app.state.ctx.db
        at = clock.epoch()
        async with db.session() as session:
            admin = (await session.execute(select(User).where(User.username == "admin"))).scalars().one()
            uid = admin.id
            session.add(
                AuthorizationCode(
                    code_hash="c" * 64,
                    client_id="x",
                    user_id=uid,
                    redirect_uri="https://x",
                    code_challenge="y" * 43,
                    auth_time=at,
                    expires_at=at + 60,
                )
            )
            session.add(SsoSession(session_hash="s" * 64, user_id=uid, auth_time=at, expires_at=at + 3600))
            session.add(
                RefreshToken(
                    token_hash="r" * 64,
                    family_id="f",
                    user_id=uid,
                    client_id="x",
                    created_at=at,
                    expires_at=at + 3600,
                    family_expires_at=at + 3600,
                )
            )
            session.add(AddressThrottle(address="198.51.100.9", failures=1, window_start=at))
        tables = (AuthorizationCode, SsoSession, RefreshToken, AddressThrottle)
        await asyncio.sleep(0.3)  # several rounds ran; nothing unexpired went
        async with db.session() as session:
            assert [await _count(session, t) for t in tables] == [1, 1, 1, 1]
        clock.shift(timedelta(days=2))
        try:
            for _ in range(100):
                async with db.session() as session:
                    counts = [await _count(session, t) for t in tables]
                if counts == [0, 0, 0, 0]:
                    break
                await asyncio.sleep(0.05)
        finally:
            clock.reset()
        assert counts == [0, 0, 0, 0]


async def test_cookies_are_secure_when_the_public_url_is_https(tmp_path: Path) -> None:
    public = "https://www.example.gov.cn"
    redirect = "https://jtj.example.gov.cn/callback"
    async with running_service("identity", tmp_path, public_url=public) as (_app, client):
        internal = await internal_token(client, service_settings("identity", tmp_path, public_url=public))
        _, password = await make_user(client, internal, "https-user")
        created = await client.post(
            f"{API}/clients",
            json={
                "client_id": "jtj",
                "name": "交通局",
                "kind": "public",
                "redirect_uris": [redirect],
                "grants": ["authorization_code"],
                "scopes": "openid",
            },
            headers=bearer(internal),
        )
        assert created.status_code == 201, created.text
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(secrets.token_urlsafe(48).encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": "jtj",
                "redirect_uri": redirect,
                "scope": "openid",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        page = await client.get(f"{API}/authorize?{query}")
        csrf_cookie = page.headers["set-cookie"]
        assert csrf_cookie.startswith("jiyue_csrf=") and "secure" in csrf_cookie.lower()
        form = {**hidden_fields(page.text), "username": "https-user", "password": password}
        # The client speaks plain http to the app and would not send a Secure cookie back itself.
        client.cookies.clear()
        signed_in = await client.post(
            f"{API}/authorize", data=form, headers={"cookie": f"jiyue_csrf={form['csrf_token']}"}
        )
        assert signed_in.status_code == 303, signed_in.text[:300]
        sso = signed_in.headers["set-cookie"]
        assert sso.startswith("jiyue_sso=") and "secure" in sso.lower()


@pytest.fixture(autouse=True)
def _clock_reset() -> object:
    yield
    clock.reset()
