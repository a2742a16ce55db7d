"""Issue 20 with the city in split mode on the real servers: every city service its own process
on PostgreSQL, Elasticsearch and MinIO, the province an in-process platform on loopback. The
same flows as tests/federation run through both gateways; then the city's federation process is
killed while the province publishes, and on restart it catches up from its cursor in
PostgreSQL with nothing lost or duplicated."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from services import registry
from tests.federation import flows
from tests.federation.platforms import START_TIMEOUT, Platform, check, link, platform_env, publish
from tests.gateway.servers import closed_port
from tests.identity.helpers import FAST_ARGON2, bearer, user_token
from tests.support import real
from tests.support.split import SplitPlatform

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]
SPLIT_ADMIN_PASSWORD = "Split-Admin-2026"  # what SplitPlatform configures


@dataclass
class SplitCity:
    """The city as the flows use it: its gateway in front of one process per service."""

    split: SplitPlatform
    name: str = "city"
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.split.gateway_url

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=60)

    async def admin(self) -> dict[str, str]:
        if "admin" not in self._tokens:
            async with self.client() as c:
                self._tokens["admin"] = bearer(await user_token(c, "admin", SPLIT_ADMIN_PASSWORD))
        return self._tokens["admin"]

    async def person(self, username: str, roles: list[tuple[str, str | None]]) -> dict[str, str]:
        if username not in self._tokens:
            # Binding roles is the security administrator's: the internal client does it, its
            # token asked from identity on its own port (the gateway refuses that client).
            async with httpx.AsyncClient(base_url=self.split.url("identity"), timeout=30) as direct:
                form = {"grant_type": "client_credentials", "client_id": "jiyue-internal",
                        "client_secret": self.split.env["JIYUE_INTERNAL_CLIENT_SECRET"],
                        "scope": "changes:read internal"}  # fmt: skip
                internal = bearer(
                    check(await direct.post("/api/identity/v1/token", data=form), 200)["access_token"]
                )
            password = "Aa1-" + secrets.token_urlsafe(12)
            async with self.client() as c:
                body = {"username": username, "display_name": username, "password": password}
                made = check(await c.post("/api/identity/v1/users", json=body, headers=internal), 201)
                for role, site in roles:
                    bind = {"role": role, "site": site}
                    check(
                        await c.post(
                            f"/api/identity/v1/users/{made['id']}/roles", json=bind, headers=internal
                        ),
                        201,
                    )
                self._tokens[username] = bearer(await user_token(c, username, password))
        return self._tokens[username]


@pytest.fixture
async def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Platform, SplitCity]]:
    platform_env(monkeypatch)
    es_url = real.elasticsearch_url()
    s3 = real.s3_settings()
    db_url = await real.fresh_postgres_database()
    tag = uuid.uuid4().hex[:8]
    (tmp_path / "city").mkdir()
    split = SplitPlatform.configure(
        tmp_path / "city",
        database_url=db_url,
        search_backend="elasticsearch",
        elasticsearch_url=es_url,
        search_index_prefix=f"fed{tag}",
        object_store="s3",
        s3_endpoint=s3["endpoint"],
        s3_access_key=s3["access_key"],
        s3_secret_key=s3["secret_key"],
        s3_bucket=f"fed-{tag}",
        feed_lease_seconds="3",
        feed_retry_base_seconds="0.2",
        federation_peer_allow="127.0.0.0/8",
        federation_peer_refresh_seconds="0.5",
        federation_lag_warn_seconds="3",
        **{k.removeprefix("JIYUE_").lower(): v for k, v in FAST_ARGON2.items()},
    )
    province = Platform("province", tmp_path / "province", closed_port())
    try:
        # start_all, with the patience eight processes need on a shared machine
        split.migrate()
        for spec in registry.SERVICES:
            split.start(spec.name, timeout=START_TIMEOUT)
        split.start("gateway", timeout=START_TIMEOUT)
        await province.start()
        yield province, SplitCity(split)
    except Exception:
        for name in split.procs:
            print(f"--- {name} log ---\n{split.log_tail(name)}")
        raise
    finally:
        if province.running:
            province.stop()
        split.stop_all()


async def test_flows_with_the_city_split_on_the_real_servers(two: tuple[Platform, SplitCity]) -> None:
    province, city = two
    policy_column, repost_column = await flows.sites(province, city)
    await link(province, city)
    await flows.subscribe(city, repost_column, policy_column)
    pid, copy = await flows.policy_reaches_city(province, city, policy_column)
    await flows.withdrawal_reaches_copy(province, city, pid, copy)
    await flows.suspension_reaches_province(province, city)
    await flows.annual_report_round_trip(province, city)

    # The city's federation dies; the province publishes meanwhile; on restart nothing is lost.
    city.split.kill("federation")
    second = await publish(province, "gov", policy_column, "关于加快数字政府建设的实施意见", important=True)
    city.split.start("federation")

    async def two_tasks() -> list[dict[str, object]] | None:
        tasks = await flows.remote_tasks(city)
        return tasks if len(tasks) == 2 and all(t["status"] == "done" for t in tasks) else None

    tasks = await flows.eventually(two_tasks, "the city to catch up after its federation restarted", 120)
    assert len({t["source_remote_id"] for t in tasks}) == 2, tasks
    async with city.client() as c:
        item = check(
            await c.get(f"/sites/shi/api/content/v1/items/{tasks[-1]['target_publication_id']}"), 200
        )
    assert item["meta"]["SourceUrl"].endswith(f"/items/{second}")
