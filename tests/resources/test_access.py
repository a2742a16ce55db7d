"""Issue 12: the tenant a client names grants nothing; bindings on the owning site decide."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from services.kernel.access import can_read, can_write, require_read, require_write
from services.kernel.auth import Principal, RoleBinding
from services.kernel.errors import Forbidden, NotFound
from services.resources.review import Reviewer
from tests.resources.conftest import Actors, create_draft
from tests.resources.test_usage import feed, publication_event
from tests.support.tokens import TestIssuer

API = "/api/resources/v1"


def who(*roles: tuple[str, str | None], scope: str = "") -> Principal:
    return Principal(
        sub="u",
        kind="user",
        roles=tuple(RoleBinding(r, s) for r, s in roles),
        scopes=frozenset(scope.split()),
    )


def test_the_rules_read_bindings_on_the_owning_site() -> None:
    assert can_read(who(("reviewer", "jtj")), "jtj") and not can_write(who(("reviewer", "jtj")), "jtj")
    assert can_write(who(("editor", None)), "jtj")  # a platform-wide binding counts everywhere
    assert can_read(who(("platform_admin", None)), "jtj")
    assert can_read(who(scope="changes:read internal"), "jtj")
    for outsider in (None, who(("citizen", None)), who(("editor", "wjw")), who(("audit_admin", None))):
        assert not can_read(outsider, "jtj")
        with pytest.raises(NotFound):
            require_read(outsider, "jtj")
        with pytest.raises(NotFound):
            require_write(outsider, "jtj")
    with pytest.raises(Forbidden):  # may see it, so may be told why it cannot change it
        require_write(who(("auditor", "jtj")), "jtj")


async def _stored(client: httpx.AsyncClient, actors: Actors) -> int:
    draft = await create_draft(client, actors.editor)
    resp = await client.post(f"{API}/resources/{draft['id']}/store", headers=actors.editor)
    assert resp.status_code == 200, resp.text
    return int(draft["id"])


async def test_a_chosen_site_prefix_does_not_open_a_stored_own_site_resource(
    service: tuple[Any, httpx.AsyncClient], actors: Actors, issuer: TestIssuer
) -> None:
    app, client = service
    rid = await _stored(client, actors)
    citizen = issuer.headers("citizen01", [("citizen", None)], site="jtj")  # as /sites/jtj/ would set
    other = issuer.headers("ed2", [("editor", "wjw")], site="jtj")
    for headers in (citizen, other, {"X-Jiyue-Site": "jtj"}):
        for path in ("", "/versions", "/versions/1", "/usages", "/retirements"):
            resp = await client.get(f"{API}/resources/{rid}{path}", headers=headers)
            assert resp.status_code in (401, 404), (path, resp.status_code)
            assert "丹东市人民政府关于加强政府网站管理的通知" not in resp.text
    auditor = issuer.headers("au", [("auditor", "jtj")])
    assert (await client.get(f"{API}/resources/{rid}", headers=auditor)).status_code == 200
    # Once a publication shows it, its stored version is public through that publication.
    await feed(app, [publication_event(1, 51, rid, "published")])
    shown = await client.get(f"{API}/resources/{rid}", headers=citizen)
    assert shown.status_code == 200 and shown.json()["current"]["version"] == 1
    await feed(app, [publication_event(2, 51, rid, "withdrawn")])
    assert (await client.get(f"{API}/resources/{rid}", headers=citizen)).status_code == 404


async def test_wire_times_are_shanghai(client: httpx.AsyncClient, actors: Actors) -> None:
    draft = await create_draft(client, actors.editor)
    assert draft["current"]["created_at"].endswith("+08:00")
    history = (await client.get(f"{API}/resources/{draft['id']}/versions", headers=actors.editor)).json()
    assert history[0]["created_at"].endswith("+08:00")


async def test_checks_run_off_the_loop_within_a_per_role_size(
    service: tuple[Any, httpx.AsyncClient],
    actors: Actors,
    issuer: TestIssuer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, client = service
    citizen = issuer.headers("citizen01", [("citizen", None)])
    big = "政务公开" * 6000  # 24 000 characters
    refused = await client.post(f"{API}/checks", json={"text": big}, headers=citizen)
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["field"] == "text"
    threads: list[str] = []
    original = Reviewer.review

    def spy(self: Reviewer, **kw: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(self, **kw)

    monkeypatch.setattr(Reviewer, "review", spy)
    assert (await client.post(f"{API}/checks", json={"text": big}, headers=actors.editor)).status_code == 200
    assert (await client.post(f"{API}/checks", json={"text": "短文"}, headers=citizen)).status_code == 200
    draft = await create_draft(client, actors.editor)
    assert (
        await client.post(f"{API}/resources/{draft['id']}/store", headers=actors.editor)
    ).status_code == 200
    assert len(threads) == 3 and threading.main_thread().name not in threads
