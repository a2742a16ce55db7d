"""The internal machine client: unusable from outside, and never started on a weak secret."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from services.identity.app import create_app
from services.identity.settings import IdentitySettings
from services.kernel.runtime import InsecureSecret, check_secret, internal_secret
from tests.identity.helpers import API
from tests.support.services import running_service, service_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = (ROOT / "deploy/jiyue.env.example", ROOT / "deploy/k8s/base/secrets.example.yaml")
SECRET_VARS = ("JIYUE_INTERNAL_CLIENT_SECRET", "JIYUE_IDENTITY_KEY_ENCRYPTION_KEY")


def _grant(secret: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": "jiyue-internal",
        "client_secret": secret,
        "scope": "changes:read internal",
    }


async def test_internal_client_is_refused_through_the_gateway(tmp_path: Path) -> None:
    async with running_service("identity", tmp_path) as (_app, client):
        secret = internal_secret(service_settings("identity", tmp_path))
        inside = await client.post(f"{API}/token", data=_grant(secret))
        assert inside.status_code == 200, inside.text
        outside = await client.post(f"{API}/token", data=_grant(secret), headers={"x-jiyue-edge": "v1.any"})
        assert outside.status_code == 401
        assert outside.json()["error"] == "invalid_client"
        assert "access_token" not in outside.json()
        # Basic authentication is refused the same way, and so is revocation through the edge.
        basic = await client.post(
            f"{API}/token",
            data={"grant_type": "client_credentials"},
            auth=("jiyue-internal", secret),
            headers={"x-jiyue-edge": ""},
        )
        assert basic.status_code == 401 and basic.json()["error"] == "invalid_client"
        revoked = await client.post(
            f"{API}/revoke",
            data={"token": "x", "client_id": "jiyue-internal", "client_secret": secret},
            headers={"x-jiyue-edge": "1"},
        )
        assert revoked.status_code == 401


def _example_values(var: str) -> list[str]:
    found = []
    for path in EXAMPLES:
        for match in re.finditer(rf"^\s*{var}\s*[=:]\s*(\S+)\s*$", path.read_text(), re.M):
            found.append(match.group(1))
    assert len(found) == len(EXAMPLES), f"{var} missing from an example config"
    return found


@pytest.mark.parametrize("var", SECRET_VARS)
def test_example_secrets_are_refused(var: str) -> None:
    for value in _example_values(var):
        with pytest.raises(InsecureSecret, match="CHANGE-ME"):
            check_secret(value, var)


@pytest.mark.parametrize(
    "weak",
    # The last: random but only 24 bytes. Fixed, so that parallel workers collect the same tests.
    [
        "test-secret",
        "split-mode-internal-secret-0123456789",
        "a" * 64,
        "ab" * 30,
        "R9WhIkuZfyW0nGbbrSb4o5OSL6L2l42p",
    ],
)
def test_weak_internal_secrets_stop_the_service(tmp_path: Path, weak: str) -> None:
    with pytest.raises(InsecureSecret, match="JIYUE_INTERNAL_CLIENT_SECRET"):
        create_app(IdentitySettings(data_dir=tmp_path, internal_client_secret=weak), run_workers=False)


def test_weak_key_encryption_key_stops_identity(tmp_path: Path) -> None:
    with pytest.raises(InsecureSecret, match="JIYUE_IDENTITY_KEY_ENCRYPTION_KEY"):
        create_app(
            IdentitySettings(data_dir=tmp_path, identity_key_encryption_key="CHANGE-ME"), run_workers=False
        )


def test_generated_and_configured_strong_secrets_start(tmp_path: Path) -> None:
    create_app(IdentitySettings(data_dir=tmp_path / "generated"), run_workers=False)
    strong = secrets.token_urlsafe(32)
    settings = IdentitySettings(
        data_dir=tmp_path / "configured", internal_client_secret=strong, identity_key_encryption_key=strong
    )
    create_app(settings, run_workers=False)
    assert internal_secret(settings) == strong
