"""Issue 12's acceptance: every site-owned operation of the merged OpenAPI, tried by everyone
who is not entitled, on every path a tenant can be named by.

Nothing here names a route. The operations come from `/openapi.json` through the gateway; a
path parameter is filled from what it names (the literal segment before it, or a site code),
so an operation a new service adds is covered as soon as it is in the registry. Expectations
are rules about roles on the owning site:

1. no leak — a response may carry a seed's distinctive text only to a caller the seed's rule
   admits (its readers);
2. no oracle — for a non-public seed, a caller who is not a reader gets exactly the answer it
   gets for an object that does not exist (404, or the 401/403 of a role-gated route). The
   three platform administrators are exempt from this one rule only: they may learn that an
   object exists (the audit administrator reads its audit trail), never what it says;
3. no outsider writes — a caller who is not a reader never gets a 2xx from a write.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.access.world import peer_token
from tests.identity.helpers import FAST_ARGON2, bearer
from tests.resources.platform_seed import City, seed_city
from tests.support.platform import Platform

A, B = "tja", "tjb"
A_HOST = "tja.sfs.gov.cn"
MISSING_ID = 2**62
MISSING_SHA = "f" * 64
ADMINS = ("platform_admin", "security_admin", "audit_admin")
CALLERS = (
    "anonymous",
    "citizen01",
    f"editor_{B}",
    f"reviewer_{B}",
    f"site_admin_{B}",
    f"auditor_{B}",
    "peer",  # another platform's machine client, registered as a peer (federation)
    *ADMINS,
)
WRITES = ("post", "put", "patch", "delete")


@dataclass
class Seed:
    kind: str  # what a path segment calls it: sites, resources, publications, ...
    value: str
    secrets: list[str]
    readers: set[str]  # callers of this matrix the rules admit (A's own staff are not callers)
    public: bool = False  # the thing itself is public (a site, a column); only its secrets are not
    missing: str = str(MISSING_ID)


@dataclass
class Case:
    service: str
    method: str
    template: str
    path: str
    missing_path: str | None
    seeds: list[Seed] = field(default_factory=list)

    @property
    def readers(self) -> set[str]:
        return set.intersection(*(s.readers for s in self.seeds)) if self.seeds else set()

    @property
    def private(self) -> bool:
        return any(not s.public for s in self.seeds)


@pytest.fixture(autouse=True)
def _fast_argon2(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)


async def _seed(city: City) -> dict[str, Seed]:
    """Site A's non-public objects, each with text nobody else may see."""
    secret_user = "tja_hidden_clerk"
    await city.add_person(secret_user, [("editor", A)])
    rid, sha = await city.resource_with_pdf(A, "甲站未发布草稿XQ7号")
    pub_rid, _ = await city.resource_with_pdf(A, "甲站待审稿件QZ9号")
    pid = await city.place(A, pub_rid)
    staff_only = {"platform_admin"}
    seeds = {
        "sites": Seed("sites", A, [], set(CALLERS), public=True, missing="nosuchsite"),
        "columns": Seed("columns", str(city.columns[A]), ["甲站待审稿件QZ9号"], staff_only, public=True),
        "resources": Seed("resources", str(rid), ["甲站未发布草稿XQ7号"], staff_only),
        "objects": Seed("objects", sha, ["JIYUE-A-SECRET-PDF"], staff_only, missing=MISSING_SHA),
        "publications": Seed("publications", str(pid), ["甲站待审稿件QZ9号"], staff_only),
        "items": Seed("items", str(pid), ["甲站待审稿件QZ9号"], staff_only),
    }
    seeds["users"] = Seed("users", str(city.user_ids[secret_user]), [secret_user], {*ADMINS})
    return seeds


_PARAM = re.compile(r"\{([^}]+)\}")


def _cases(doc: dict[str, Any], seeds: dict[str, Seed]) -> tuple[list[Case], Counter[str]]:
    cases: list[Case] = []
    unseeded: Counter[str] = Counter()
    for template, ops in doc["paths"].items():
        if "{" not in template or not template.startswith("/api/"):
            continue
        service = template.split("/")[2]
        segments = template.strip("/").split("/")
        for method, op in ops.items():
            if method not in ("get", *WRITES):
                continue
            params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "path"}
            filled, missing, used = template, template, []
            for i, segment in enumerate(segments):
                name = _PARAM.fullmatch(segment)
                if not name:
                    continue
                kind = segments[i - 1] if i else ""
                seed = seeds.get(kind)
                if seed is not None:
                    used.append(seed)
                    value, absent = seed.value, seed.missing
                else:
                    schema = params.get(name.group(1), {}).get("schema", {})
                    value = str(
                        schema.get("enum", [None])[0] or (1 if schema.get("type") == "integer" else "1")
                    )
                    absent = value
                filled = filled.replace(segment, value, 1)
                missing = missing.replace(segment, absent, 1)
            if not used:
                unseeded[service] += 1
                continue
            case = Case(
                service, method, template, filled, missing if any(not s.public for s in used) else None
            )
            case.seeds = used
            cases.append(case)
    return cases, unseeded


async def test_no_site_owned_operation_leaks_across_tenants(tmp_path: Path) -> None:
    async with Platform.start(tmp_path, gateway_rate_limits=False) as platform:
        c = platform.client
        city = await seed_city(platform, {A: ("甲局", A_HOST), B: ("乙局", "tjb.sfs.gov.cn")})
        seeds = await _seed(city)
        city.people["peer"] = bearer(await peer_token(c, platform.gateway.directory.client("federation")))
        doc = (await c.get("/openapi.json")).json()
        cases, unseeded = _cases(doc, seeds)
        variants = {
            "no prefix": ("", {}),
            f"/sites/{A}": (f"/sites/{A}", {}),
            f"/sites/{B}": (f"/sites/{B}", {}),
            "Host A": ("", {"Host": A_HOST}),
        }
        headers_of = {name: city.people.get(name, {}) for name in CALLERS}
        failures: list[str] = []
        covered: Counter[str] = Counter()
        requests = 0
        for case in sorted(cases, key=lambda k: k.method != "get"):  # reads before writes
            covered[case.service] += 1
            for caller in CALLERS:
                reader = caller in case.readers
                if reader and case.method in WRITES:
                    continue  # entitled writes would change the seeds; entitlement is not the question
                for label, (prefix, extra) in variants.items():
                    headers = {**headers_of[caller], **extra}
                    body: dict[str, Any] | None = {} if case.method in ("post", "put", "patch") else None
                    resp = await c.request(
                        case.method.upper(), prefix + case.path, json=body, headers=headers
                    )
                    requests += 1
                    where = f"{case.method.upper()} {case.template} as {caller} via {label}"
                    for seed in case.seeds + [s for s in seeds.values() if s not in case.seeds]:
                        leaked = [s for s in seed.secrets if s in resp.text]
                        if leaked and caller not in seed.readers:
                            failures.append(f"{where}: {resp.status_code} leaks {leaked[0]!r}")
                    if reader:
                        continue
                    if case.method in WRITES and 200 <= resp.status_code < 300:
                        failures.append(f"{where}: outsider write answered {resp.status_code}")
                    if case.private and case.missing_path is not None and caller not in ADMINS:
                        if resp.status_code < 300:
                            failures.append(f"{where}: non-public object answered {resp.status_code}")
                        baseline = await c.request(
                            case.method.upper(), prefix + case.missing_path, json=body, headers=headers
                        )
                        requests += 1
                        if baseline.status_code != resp.status_code:
                            failures.append(
                                f"{where}: {resp.status_code} for A's object but {baseline.status_code}"
                                " for a missing one (confirms it exists)"
                            )
        print(
            f"isolation matrix: {requests} requests, {len(cases)} site-owned operations per service {dict(covered)}"
        )
        print(f"operations with ids the seeds do not know (filled with 1): {dict(unseeded)}")
        for line in failures:
            print("ISOLATION", line)
        assert covered and requests > 0
        assert not failures, f"{len(failures)} isolation failures, first: {failures[:10]}"
