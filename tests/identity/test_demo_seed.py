"""The identity demo step: every account signs in with its listed role, and a re-run is a no-op."""

from __future__ import annotations

from rich.console import Console

from gateway.demo import identity as identity_step
from gateway.demo.city import SITES
from gateway.demo.seed import Demo
from tests.identity.helpers import API, bearer, internal_token, password_login
from tests.support.platform import Platform


async def test_demo_accounts_sign_in_and_reseeding_keeps_passwords(platform: Platform) -> None:
    demo = Demo(
        client=platform.client,
        console=Console(quiet=True),
        settings=platform.settings,
        directory=platform.gateway.directory,
    )
    await identity_step.seed(demo)
    assert len(demo.accounts) == 4 * len(SITES) + 4
    demo.write_accounts()

    again = Demo(
        client=platform.client,
        console=Console(quiet=True),
        settings=platform.settings,
        directory=platform.gateway.directory,
    )
    await identity_step.seed(again)
    assert again.accounts == demo.accounts

    for account in [demo.accounts[0], demo.accounts[5], *demo.accounts[-4:]]:
        resp = await password_login(platform.client, account["username"], account["password"])
        assert resp.status_code == 200, account["username"]
        info = (
            await platform.client.get(f"{API}/userinfo", headers=bearer(resp.json()["access_token"]))
        ).json()
        assert {"role": account["role"], "site": account["site"]} in info["roles"]

    internal = await internal_token(platform.client, platform.settings)
    orgs = await platform.client.get(f"{API}/orgs", params={"size": 100}, headers=bearer(internal))
    kinds = {o["code"]: o["kind"] for o in orgs.json()["items"]}
    assert kinds["sfsheng"] == "province" and kinds["sfs"] == "city" and kinds["nhx"] == "county"
    assert kinds["jtj"] == "department"
