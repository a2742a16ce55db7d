"""Who may see site A's non-public things — generated from the merged OpenAPI, never from a route list.

Site A holds a stored but unpublished own-site resource with an attachment, a draft publication
placed from it and an editor. For every operation of the merged OpenAPI, its path is filled with
A's objects and, beside it, with objects that do not exist ("ghosts"); both are tried by every kind
of outsider (anonymous, a citizen, B's editor/reviewer/site_admin/auditor, the security and audit
administrators) through no prefix, A's prefix, B's prefix and A's Host. The rules:

- no answer to an outsider contains anything of A's non-public objects (a random marker planted
  in their titles, bodies, bytes and names);
- an operation naming one of A's non-public objects answers an outsider exactly as it answers for
  a ghost: the object is indistinguishable from one that does not exist (404, or the route's own
  401/403 for both) — never a 2xx, never a 403 that confirms it exists (the three administrators
  may learn that something exists, for their audits, but never what it holds);
- a write naming site A (its code, prefix or Host) never succeeds for a signed-in outsider on A's
  behalf, unless anyone may make it (a citizen's rating or letter: anonymous succeeds too);
- nothing answers 5xx, whoever asks (the system administrator included).

A route added tomorrow — or a service joining the registry — is covered without editing this file.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.access.bodies import body_for, query_for
from tests.access.world import World, build_world
from tests.identity.helpers import FAST_ARGON2
from tests.support.platform import Platform

GHOST_ID = 987_654_321
# `peer`: another platform's machine client, registered here as a peer (federation).
OUTSIDERS = ("anonymous", "citizen", "editor_b", "reviewer_b", "site_admin_b", "auditor_b", "peer")
ADMINS = ("security_admin", "audit_admin", "platform_admin")
# Managing accounts is the security and audit administrators' own job (三员分立 decides which);
# their answers on identity's administration routes are held by identity's tests, not here.
IDENTITY_ADMIN_PREFIX = "/api/identity/v1/"
WRITES = {"post", "put", "patch", "delete"}


@dataclass
class Tally:
    # (operation, tenant) pairs whose write an anonymous caller may make: public submissions
    public_writes: set[tuple[str, str]] = field(default_factory=set)
    operations: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    requests: int = 0
    reached: int = 0  # answers past body validation: the route's own decision was exercised
    problems: list[str] = field(default_factory=list)


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    async with Platform.start(tmp_path, gateway_rate_limits=False) as platform:
        yield await build_world(platform, marker="甲站内部" + secrets.token_hex(6))


def _tenants(world: World) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        "no prefix": ("", {}),
        "A's prefix": (f"/sites/{world.site_a}", {}),
        "B's prefix": (f"/sites/{world.site_b}", {}),
        "A's Host": ("", {"Host": world.host_a}),
    }


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


async def test_outsiders_never_see_or_touch_site_a_non_public_objects(world: World) -> None:
    doc = (await world.client.get("/openapi.json")).json()
    tally = Tally()
    tenants = _tenants(world)
    for path, ops in sorted(doc["paths"].items()):
        for method, op in ops.items():
            if method not in {"get", "head", *WRITES}:
                continue
            service = path.split("/")[2] if path.startswith("/api/") else "platform"
            tally.operations[service] += 1
            params = [p for p in op.get("parameters", []) if p["in"] == "path"]
            real, ghost = world.path_values(path, params, doc)
            names_object = any(p["name"] in real and real[p["name"]] != ghost[p["name"]] for p in params)
            names_only_site = bool(params) and {p["name"] for p in params} <= world.site_params
            for caller in (*OUTSIDERS, *ADMINS):
                headers_caller = world.auth(caller)
                for tenant, (prefix, tenant_headers) in tenants.items():
                    headers = {**headers_caller, **tenant_headers}
                    query = query_for(op, world)
                    body = body_for(op, doc, world) if method in WRITES else None
                    a = await _call(world.client, method, prefix + _fill(path, real), headers, query, body)
                    g = None
                    if names_object and not names_only_site:
                        g = await _call(
                            world.client, method, prefix + _fill(path, ghost), headers, query, body
                        )
                    _judge(
                        tally,
                        world,
                        f"{method.upper()} {path} as {caller} via {tenant}",
                        method,
                        path,
                        caller,
                        tenant,
                        names_object and not names_only_site,
                        names_only_site,
                        a,
                        g,
                    )
    summary = ", ".join(f"{svc}: {n}" for svc, n in sorted(tally.operations.items()))
    print(
        f"\nisolation matrix: {sum(tally.operations.values())} operations ({summary}) × "
        f"{len(OUTSIDERS) + len(ADMINS)} callers × {len(tenants)} ways to name a tenant = "
        f"{tally.requests} requests, {tally.reached} past body validation; statuses {dict(tally.statuses)}"
    )
    assert not tally.problems, f"{len(tally.problems)} violations:\n" + _grouped(tally.problems)
    assert sum(tally.operations.values()) >= 60


async def _call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    query: dict[str, str],
    body: Any,
) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers, "params": query}
    if body is not None:
        if isinstance(body, tuple):  # multipart
            kwargs["files"] = {body[0]: ("note.txt", body[1], "text/plain")}
        else:
            kwargs["json"] = body
    return await client.request(method.upper(), url, **kwargs)


def _judge(
    tally: Tally,
    world: World,
    what: str,
    method: str,
    path: str,
    caller: str,
    tenant: str,
    names_object: bool,
    names_only_site: bool,
    a: httpx.Response,
    ghost: httpx.Response | None,
) -> None:
    tally.requests += 1 + (ghost is not None)
    tally.statuses[a.status_code] += 1
    if a.status_code != 422:
        tally.reached += 1
    if a.status_code >= 500 or (ghost is not None and ghost.status_code >= 500):
        tally.problems.append(f"{what}: server error {a.status_code}/{ghost and ghost.status_code}")
        return
    if caller == "platform_admin":
        return
    if caller in ("security_admin", "audit_admin") and path.startswith(IDENTITY_ADMIN_PREFIX):
        return
    if world.marker in a.text:
        tally.problems.append(f"{what}: {a.status_code} leaks A's non-public data")
    if names_object and ghost is not None and caller in OUTSIDERS:
        if 200 <= a.status_code < 300:
            tally.problems.append(f"{what}: {a.status_code} on A's non-public object")
        elif a.status_code != ghost.status_code:
            tally.problems.append(
                f"{what}: answers {a.status_code} for A's object but {ghost.status_code} for a ghost "
                "(existence confirmed)"
            )
    if method in WRITES and 200 <= a.status_code < 300:
        if caller == "anonymous":
            tally.public_writes.add((f"{method} {path}", tenant))
            return
        if (f"{method} {path}", tenant) in tally.public_writes:
            return
        on_behalf_of_a = names_only_site or tenant in ("A's prefix", "A's Host")
        if on_behalf_of_a and (names_only_site or f'"{world.site_a}"' in a.text):
            tally.problems.append(f"{what}: {a.status_code} — an outsider wrote on site A's behalf")


def _grouped(problems: list[str]) -> str:
    """One line per operation and kind of violation, with who found it."""
    groups: dict[str, list[str]] = {}
    for problem in problems:
        what, _, verdict = problem.partition(": ")
        operation, _, who = what.partition(" as ")
        groups.setdefault(f"{operation}: {verdict}", []).append(who)
    return "\n".join(f"{key}  [{len(who)}× e.g. {who[0]}]" for key, who in sorted(groups.items()))
