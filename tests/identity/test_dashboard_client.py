"""The operator dashboard's OIDC client: identity keeps it, with its callback under the public URL."""

from __future__ import annotations

from pathlib import Path

from services.kernel.client import DASHBOARD_CALLBACK_PATH, DASHBOARD_CLIENT_ID
from tests.identity.helpers import API, bearer, internal_token
from tests.support.platform import Platform


async def test_the_dashboard_client_follows_the_public_url_and_cannot_be_changed(tmp_path: Path) -> None:
    for public in ("http://127.0.0.1:8000", "https://zwfw.sfs.gov.cn"):
        async with Platform.start(tmp_path, public_url=public) as platform:
            admin = bearer(await internal_token(platform.client, platform.settings))
            client = await platform.client.get(f"{API}/clients/{DASHBOARD_CLIENT_ID}", headers=admin)
            assert client.status_code == 200, client.text
            body = client.json()
            assert body["redirect_uris"] == [public + DASHBOARD_CALLBACK_PATH]
            assert body["grants"] == ["authorization_code"] and body["kind"] == "public"
            changed = await platform.client.patch(
                f"{API}/clients/{DASHBOARD_CLIENT_ID}",
                json={"redirect_uris": ["https://evil.example/cb"]},
                headers=admin,
            )
            assert changed.status_code == 409
            deleted = await platform.client.delete(f"{API}/clients/{DASHBOARD_CLIENT_ID}", headers=admin)
            assert deleted.status_code == 409
