"""Identity's API contract: every success answer is described, instants are +08:00, ids bounded."""

from __future__ import annotations

from pathlib import Path

from services.identity.app import create_app
from services.identity.settings import IdentitySettings
from tests.identity.helpers import API, bearer, internal_token, make_user
from tests.support.platform import Platform

BODILESS = {"204", "303"}


def test_every_success_answer_has_a_schema(tmp_path: Path) -> None:
    spec = create_app(IdentitySettings(data_dir=tmp_path), run_workers=False).openapi()
    missing = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for status, answer in op["responses"].items():
                if not status.startswith("2") or status in BODILESS:
                    continue
                content = answer.get("content") or {}
                if not content or not all(media.get("schema") for media in content.values()):
                    missing.append(f"{method.upper()} {path} {status}")
                elif "application/json" in content and content["application/json"]["schema"] == {}:
                    missing.append(f"{method.upper()} {path} {status} (untyped)")
    assert missing == []


def test_path_ids_are_bounded(tmp_path: Path) -> None:
    spec = create_app(IdentitySettings(data_dir=tmp_path), run_workers=False).openapi()
    param = next(
        p for p in spec["paths"][f"{API}/users/{{user_id}}"]["get"]["parameters"] if p["name"] == "user_id"
    )
    assert param["schema"]["minimum"] == 1 and param["schema"]["maximum"] == 2**63 - 1


async def test_instants_are_written_with_the_shanghai_offset(platform: Platform) -> None:
    internal = await internal_token(platform.client, platform.settings)
    uid, _ = await make_user(platform.client, internal, "shijian", [("editor", "jtj")])
    user = (await platform.client.get(f"{API}/users/{uid}", headers=bearer(internal))).json()
    assert user["created_at"].endswith("+08:00")
    assert user["roles"][0]["created_at"].endswith("+08:00")
    audit = (await platform.client.get(f"{API}/audit", headers=bearer(internal))).json()
    assert all(entry["at"].endswith("+08:00") for entry in audit["items"])
    keys = (await platform.client.get(f"{API}/keys", headers=bearer(internal))).json()
    assert keys[0]["created_at"].endswith("+08:00")
    huge = await platform.client.get(f"{API}/users/{2**70}", headers=bearer(internal))
    assert huge.status_code == 422
