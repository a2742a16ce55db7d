"""Issue 20, resources shared in the unified metadata schema, through two platforms' gateways:
the province offers a stored resource of its library; a city editor places a version of it on a
city site as a pinned copy (stored again in the city's library, provenance kept) and the usage
is registered at the province, and its withdrawal later too; a later version at the province leaves the city's copy as it was;
a peer without `peer:resources`, a resource not offered and a forged token are all refused."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.federation.service import placements
from services.federation.service.link import PeerLink
from services.federation.shared_schemas import PeerAttachmentOut, PeerResourceVersionOut
from services.kernel.errors import Conflict
from services.kernel.outbound import OutboundClient, OutboundPolicy
from tests.federation import flows
from tests.federation.platforms import (
    CONTENT,
    FEDERATION,
    Platform,
    TwoPlatforms,
    check,
    make_column,
    make_site,
    platform_env,
)

pytestmark = pytest.mark.timeout(600)
LIBRARY = "/api/resources/v1/resources"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n% JIYUE-SHARED-ATTACHMENT\n" + b"7" * 300 + b"\n%%EOF\n"


@pytest.fixture(autouse=True)
def _env(_isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    platform_env(monkeypatch)


async def _peer(
    p: Platform, code: str, other: Platform, scopes: list[str], remote: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code, "name": f"{code}平台", "base_url": other.url, "issuer": other.url, "scopes": scopes,
    }  # fmt: skip
    if remote is not None:
        body |= {
            "remote_client_id": remote["local_client_id"],
            "remote_client_secret": remote["local_client_secret"],
        }
    async with p.client() as c:
        made: dict[str, Any] = check(
            await c.post(f"{FEDERATION}/peers", json=body, headers=await p.admin()), 201
        )
    return made


async def _token(p: Platform, issued: dict[str, Any]) -> dict[str, str]:
    async with p.client() as c:
        form = {
            "grant_type": "client_credentials",
            "client_id": issued["local_client_id"],
            "client_secret": issued["local_client_secret"],
        }
        token = check(await c.post("/api/identity/v1/token", data=form), 200)["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _stored(
    c: httpx.AsyncClient, who: dict[str, str], title: str, scope: str, link_base: str | None = None
) -> int:
    """A stored resource of `gov`; with `link_base`, a PDF attached and linked from the body by
    its absolute address at `link_base` (the province's public URL)."""
    body = {
        "metadata": {
            "title": title,
            "issuer_org": {"code": "gov", "name": "示范省人民政府办公厅"},
            "genre": "tongzhi",
        },
        "body_html": f"<p>{title}：第一版正文。</p>",
        "scope": scope,
    }
    made = check(await c.post(f"/sites/gov{LIBRARY}", json=body, headers=who), 201)
    if link_base is not None:
        up = check(
            await c.post(
                f"/sites/gov{LIBRARY}/{made['id']}/attachments",
                files={"file": ("数据共享目录.pdf", PDF, "application/pdf")},
                headers=who,
            ),
            201,
        )
        linked = f'{body["body_html"]}<p><a href="{link_base}{up["url"]}">数据共享目录</a></p>'
        patch = {"body_html": linked}
        check(await c.patch(f"/sites/gov{LIBRARY}/{made['id']}", json=patch, headers=who), 200)
    check(await c.post(f"/sites/gov{LIBRARY}/{made['id']}/store", headers=who), 200)
    return int(made["id"])


def _forged(headers: dict[str, str]) -> dict[str, str]:
    head, body, sig = headers["Authorization"].removeprefix("Bearer ").split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["scope"] = "peer:feed peer:resources"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {"Authorization": f"Bearer {head}.{forged}.{sig}"}


async def test_a_city_places_a_pinned_version_of_a_province_resource_and_the_usage_is_registered(
    tmp_path: Path,
) -> None:
    async with TwoPlatforms.start(tmp_path) as (province, city):
        await make_site(province, "gov", "示范省人民政府", "9900000001")
        await make_site(city, "shi", "示范市人民政府", "9901000001")
        await make_site(city, "jtj", "示范市交通运输局", "bm99010010", kind="department", parent_code="shi")
        column = await make_column(city, "shi", "上级政策文件")
        # The province grants the city `peer:resources`; another peer gets the feed only.
        city_at_province = await _peer(province, "city", city, ["peer:feed", "peer:resources"])
        other_at_province = await _peer(province, "other", city, ["peer:feed"])
        await _peer(city, "province", province, [], remote=city_at_province)
        as_city = await _token(province, city_at_province)
        as_other = await _token(province, other_at_province)

        gov_editor = await province.person("gov_editor", [("editor", "gov")])
        shi_editor = await city.person("shi_editor", [("editor", "shi")])
        jtj_editor = await city.person("jtj_editor", [("editor", "jtj")])
        async with province.client() as pc, city.client() as cc:
            shared = await _stored(
                pc, gov_editor, "关于推进政务数据共享的指导意见", "platform", link_base=province.url
            )
            private = await _stored(pc, gov_editor, "省政府办公厅内部工作规则", "platform")
            own_site = await _stored(pc, gov_editor, "本站工作动态", "own_site")
            # Only a stored resource shared beyond its own site can be offered; the city offers nothing.
            check(
                await pc.post(
                    f"{FEDERATION}/shared-resources", json={"resource_id": own_site}, headers=gov_editor
                ),
                409,
            )
            check(
                await pc.post(
                    f"{FEDERATION}/shared-resources", json={"resource_id": shared}, headers=gov_editor
                ),
                201,
            )

            # The peer reads what is offered, in the unified metadata, and nothing else.
            listed = check(await pc.get(f"{FEDERATION}/peer/resources", headers=as_city), 200)
            assert [i["resource_id"] for i in listed["items"]] == [shared], listed
            assert listed["items"][0]["metadata"]["title"] == "关于推进政务数据共享的指导意见"
            assert listed["items"][0]["versions"] == [1]
            v1 = check(await pc.get(f"{FEDERATION}/peer/resources/{shared}/versions/1", headers=as_city), 200)
            assert "第一版正文" in v1["body_html"]
            for path in (f"/peer/resources/{private}", f"/peer/resources/{own_site}/versions/1",
                         f"/peer/resources/{shared}/versions/2"):  # fmt: skip
                assert (await pc.get(FEDERATION + path, headers=as_city)).status_code == 404, path
            # A peer without the scope, a forged widening of its token, a foreign issuer's token.
            assert (await pc.get(f"{FEDERATION}/peer/resources", headers=as_other)).status_code == 403
            assert (
                await pc.get(f"{FEDERATION}/peer/resources", headers=_forged(as_other))
            ).status_code == 401
            assert (
                await pc.get(f"{FEDERATION}/peer/resources", headers=await city.admin())
            ).status_code == 401
            forged_usage = {"site": "shi", "item": 1, "version": 1}
            resp = await pc.post(
                f"{FEDERATION}/peer/resources/{shared}/usages", json=forged_usage, headers=as_other
            )
            assert resp.status_code == 403

            # The city's editor browses and places version 1 on her site; another site's editor may not.
            browsed = check(
                await cc.get(f"{FEDERATION}/peers/province/resources?site=shi", headers=shi_editor), 200
            )
            assert [i["resource_id"] for i in browsed["items"]] == [shared]
            want = {"site": "shi", "column_id": column, "version": 1}
            refused = await cc.post(
                f"{FEDERATION}/peers/province/resources/{shared}/placements", json=want, headers=jtj_editor
            )
            assert refused.status_code in (403, 404), refused.text
            placed = check(
                await cc.post(
                    f"{FEDERATION}/peers/province/resources/{shared}/placements",
                    json=want,
                    headers=shi_editor,
                ),
                201,
            )
            assert placed["registered"] is True and placed["last_error"] is None, placed
            assert placed["remote_resource_id"] == shared and placed["remote_version"] == 1
            copy = check(
                await cc.get(f"/sites/shi{LIBRARY}/{placed['resource_id']}/versions/1", headers=shi_editor),
                200,
            )
            assert copy["status"] == "stored" and copy["owner_site"] == "shi"
            # The file is stored again in the city's library (先入库), the same bytes, served by
            # the city; the body's link to the province's file now points at the city's copy.
            sha = hashlib.sha256(PDF).hexdigest()
            assert [(a["sha256"], a["size"]) for a in v1["attachments"]] == [(sha, len(PDF))], v1
            assert [a["sha256"] for a in copy["attachments"]] == [sha], copy
            local = copy["attachments"][0]["url"]
            assert not local.startswith(province.url), local
            assert f'href="{province.url}' in v1["body_html"] and province.url not in copy["body_html"]
            assert copy["body_html"] == v1["body_html"].replace(f"{province.url}{local}", local)
            got = await cc.get(local, headers=shi_editor)
            assert got.status_code == 200 and got.content == PDF, got.status_code
            assert copy["metadata"]["title"] == v1["metadata"]["title"]
            assert (
                f"资源 {shared} 第 1 版" in copy["metadata"]["source"]
                and "province" in copy["metadata"]["source"]
            )
            publication = check(
                await cc.get(f"{CONTENT}/publications/{placed['publication_id']}", headers=shi_editor), 200
            )
            assert (publication["resource_id"], publication["resource_version"]) == (placed["resource_id"], 1)
            mine = check(await cc.get(f"{FEDERATION}/placements?site=shi", headers=shi_editor), 200)
            assert [p["id"] for p in mine["items"]] == [placed["id"]]

            # The usage is registered at the source, where the owning site's staff see it.
            usages = check(
                await pc.get(f"{FEDERATION}/shared-resources/{shared}/usages", headers=gov_editor), 200
            )
            assert [
                (u["peer"], u["site"], u["item"], u["version"], u["status"]) for u in usages["items"]
            ] == [("city", "shi", placed["publication_id"], 1, "placed")], usages
            offered = check(
                await pc.get(f"{FEDERATION}/shared-resources", headers=await province.admin()), 200
            )
            assert [(o["resource_id"], o["usages"]) for o in offered["items"]] == [(shared, 1)]

            # A second version at the source: offered to peers, the city's pinned copy unchanged.
            edit = {"body_html": "<p>关于推进政务数据共享的指导意见：第二版正文。</p>"}
            check(await pc.patch(f"/sites/gov{LIBRARY}/{shared}", json=edit, headers=gov_editor), 200)
            check(await pc.post(f"/sites/gov{LIBRARY}/{shared}/store", headers=gov_editor), 200)
            again = check(await pc.get(f"{FEDERATION}/peer/resources/{shared}", headers=as_city), 200)
            assert again["versions"] == [1, 2] and again["stored_version"] == 2
            kept = check(
                await cc.get(f"/sites/shi{LIBRARY}/{placed['resource_id']}", headers=shi_editor), 200
            )
            assert kept["latest_version"] == 1 and "第一版正文" in kept["current"]["body_html"], kept

            # The city's item goes live and is withdrawn: the source's register follows.
            shi_reviewer = await city.person("shi_reviewer", [("reviewer", "shi")])
            pid = placed["publication_id"]
            ok = {"opinion": "同意", "confidentiality_check": {"passed": True, "note": ""}}
            check(await cc.post(f"{CONTENT}/publications/{pid}/submit", json={}, headers=shi_editor), 200)
            check(await cc.post(f"{CONTENT}/publications/{pid}/approve", json=ok, headers=shi_reviewer), 200)
            check(await cc.post(f"{CONTENT}/publications/{pid}/publish", json={}, headers=shi_editor), 200)
            check(
                await cc.post(
                    f"{CONTENT}/publications/{pid}/withdraw", json={"reason": "已失效"}, headers=shi_editor
                ),
                200,
            )

            async def withdrawn_at_source() -> bool:
                got = check(
                    await pc.get(f"{FEDERATION}/shared-resources/{shared}/usages", headers=gov_editor), 200
                )
                return [u["status"] for u in got["items"]] == ["withdrawn"]

            await flows.eventually(withdrawn_at_source, "the withdrawal to reach the source's register", 60)
            mine = check(await cc.get(f"{FEDERATION}/placements?site=shi", headers=shi_editor), 200)
            assert (mine["items"][0]["status"], mine["items"][0]["registered"]) == ("withdrawn", True), mine

            # Revoked: no longer seen by the peer; the registered usage stays on record.
            check(await pc.post(f"{FEDERATION}/shared-resources/{shared}/revoke", headers=gov_editor), 200)
            assert (await pc.get(f"{FEDERATION}/peer/resources/{shared}", headers=as_city)).status_code == 404
            usages = check(
                await pc.get(f"{FEDERATION}/shared-resources/{shared}/usages", headers=gov_editor), 200
            )
            assert len(usages["items"]) == 1


class _TamperedPeer(PeerLink):
    """A peer whose file is not the one it declared (altered in transit or at rest)."""

    def __init__(self) -> None:
        super().__init__(OutboundClient(OutboundPolicy()), "https://province.example", "c", "s")
        self.asked: list[tuple[str, int]] = []

    async def get_bytes(self, path: str, max_bytes: int) -> tuple[int, bytes]:
        self.asked.append((path, max_bytes))
        return 200, PDF.replace(b"7", b"8")


async def test_a_file_that_does_not_match_its_declared_sha256_places_nothing() -> None:
    declared = PeerAttachmentOut(
        sha256=hashlib.sha256(PDF).hexdigest(), filename="目录.pdf", media_type="application/pdf",
        size=len(PDF), url="https://province.example/api/resources/v1/objects/x",
    )  # fmt: skip
    source = PeerResourceVersionOut(
        resource_id=7, version=2, index_no=None, metadata={}, body_html="", attachments=[declared],
        stored_at=None,
    )  # fmt: skip
    link = _TamperedPeer()
    try:
        with pytest.raises(Conflict, match="SHA-256"):
            await placements.peer_files(link, source)
    finally:
        await link.outbound.aclose()
    assert link.asked == [
        (f"/api/federation/v1/peer/resources/7/versions/2/attachments/{declared.sha256}", len(PDF))
    ]
