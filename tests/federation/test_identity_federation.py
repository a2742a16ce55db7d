"""Identity federation between two complete platforms on loopback: a province and a city.

A provincial inspector signs in on the city through the province's own sign-in page (the city
an OIDC client of the province: authorization code + PKCE, state and nonce, the ID token
checked against the province's JWKS fetched through the guarded outbound client), gets exactly
the mapped role on the city and nothing else, and the claim that did not map is in the mapping
report; when the province takes the role away, the next sign-in takes the city's binding away.
A token the province signed, or a forged one, is refused by the city's APIs.

The two platforms listen on different loopback addresses (127.0.0.1 and 127.0.0.2), so that
the test's browser keeps their cookies apart as a browser keeps two hosts' apart.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import re
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest

from gateway import migrate
from gateway.app import create_gateway
from gateway.settings import GatewaySettings
from tests.gateway.servers import on_server, serving
from tests.identity.helpers import FAST_ARGON2, strong_password
from tests.support.tokens import TestIssuer

API = "/api/identity/v1"
CITY_SITE = "city-portal"
OTHER_SITE = "city-water"
RP_REDIRECT = "http://127.0.0.1/rp/callback"  # never dialled: the test reads the redirect
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_FEDERATED_LINK = re.compile(r'<a href="([^"]*federation/[^"]+/signin[^"]*)">使用省级平台账号登录</a>')


@dataclass
class Served:
    app: Any
    url: str
    port: int

    def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """As the platform's internal machine client, on the served platform's own loop."""
        client = self.app.gateway.directory.client("identity")
        return on_server(self.port, client.request(method, f"{API}{path}", **kw))


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def platform(root: Path, host: str) -> Iterator[Served]:
    """One complete platform, served on `host`, whose public URL (its issuer) is where it listens."""
    port = _free_port(host)
    url = f"http://{host}:{port}"
    settings = GatewaySettings(data_dir=root, public_url=url, gateway_rate_limits=False)
    asyncio.run(migrate.migrate(data_dir=root, public_url=url))
    app = create_gateway(settings)
    with serving(app, host, port=port, start_timeout=120) as served:
        yield Served(app, url, served)


@pytest.fixture
def platforms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Served, Served]]:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    # The province is on loopback: the operator allow-lists it for identity's outbound client.
    monkeypatch.setenv("JIYUE_IDENTITY_OUTBOUND_ALLOW", "127.0.0.0/8")
    with (
        platform(tmp_path / "province", "127.0.0.2") as province,
        platform(tmp_path / "city", "127.0.0.1") as city,
    ):
        yield province, city


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _setup_province(province: Served, city: Served) -> tuple[str, str, int, int, str]:
    """An inspector with a platform-wide auditor role and an unmapped editor role; the city's client."""
    password = strong_password()
    resp = province.admin(
        "POST", "/users", json={"username": "inspector-li", "display_name": "李检查", "password": password}
    )
    assert resp.status_code == 201, resp.text
    user_id = int(resp.json()["id"])
    bindings = []
    for role, site in (("auditor", None), ("editor", "prov-news")):
        bound = province.admin("POST", f"/users/{user_id}/roles", json={"role": role, "site": site})
        assert bound.status_code == 201, bound.text
        bindings.append(int(bound.json()["id"]))
    client = province.admin(
        "POST",
        "/clients",
        json={
            "client_id": "city-platform",
            "name": "市级平台",
            "kind": "confidential",
            "redirect_uris": [f"{city.url}{API}/federation/callback"],
            "grants": ["authorization_code"],
            "scopes": "openid profile",
        },
    )
    assert client.status_code == 201, client.text
    return "inspector-li", password, user_id, bindings[0], str(client.json()["client_secret"])


def _setup_city(city: Served, province: Served, secret: str) -> None:
    trusted = city.admin(
        "POST",
        "/federation/issuers",
        json={
            "code": "province",
            "name": "省级平台",
            "issuer": province.url,
            "client_id": "city-platform",
            "client_secret": secret,
            # The province's platform-wide auditors audit one city site here; nothing else maps.
            "mapping": [
                {"source_role": "auditor", "source_site": None, "role": "auditor", "site": CITY_SITE}
            ],
        },
    )
    assert trusted.status_code == 201, trusted.text
    assert trusted.json()["redirect_uri"] == f"{city.url}{API}/federation/callback"
    assert trusted.json()["has_client_secret"] is True and "client_secret" not in trusted.json()
    rp = city.admin(
        "POST",
        "/clients",
        json={
            "client_id": "city-console",
            "name": "市级平台工作台",
            "kind": "public",
            "redirect_uris": [RP_REDIRECT],
            "grants": ["authorization_code", "refresh_token"],
            "scopes": "openid profile",
        },
    )
    assert rp.status_code == 201, rp.text


@dataclass
class RoundTrip:
    back: str  # the province's redirect to the city's callback
    verifier: str
    state: str
    form_shown: bool  # the province's form, or its single sign-on answered at once


def _to_province_and_back(
    browser: httpx.Client, city: Served, province: Served, username: str, password: str
) -> RoundTrip:
    """The city's client asks the city; the person picks the province and signs in there."""
    verifier, challenge = _pkce()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    authorize = f"{city.url}{API}/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": "city-console",
            "redirect_uri": RP_REDIRECT,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = browser.get(authorize)
    assert page.status_code == 200, page.text[:300]
    link = _FEDERATED_LINK.search(page.text)
    assert link, "the city's sign-in page offers 使用省级平台账号登录"
    start = browser.get(urljoin(authorize, html.unescape(link.group(1))))
    assert start.status_code == 303, start.text[:300]
    at_province = start.headers["location"]
    assert at_province.startswith(f"{province.url}{API}/authorize?")
    sent = _query(at_province)
    assert sent["client_id"] == "city-platform" and sent["code_challenge_method"] == "S256"
    assert sent["state"] and sent["nonce"] and sent["code_challenge"]
    answer = browser.get(at_province)
    form_shown = answer.status_code == 200
    if form_shown:  # no provincial session yet: the province's own form
        fields = {n: html.unescape(v) for n, v in _HIDDEN.findall(answer.text)}
        fields.update(username=username, password=password)
        answer = browser.post(f"{province.url}{API}/authorize", data=fields)
    assert answer.status_code == 303, answer.text[:300]
    back = answer.headers["location"]
    assert back.startswith(f"{city.url}{API}/federation/callback?")
    return RoundTrip(back, verifier, state, form_shown)


def _finish(browser: httpx.Client, city: Served, trip: RoundTrip) -> dict[str, Any]:
    """The city's callback, then our client redeems the city's code for the city's tokens."""
    done = browser.get(trip.back)
    assert done.status_code == 303, done.text[:500]
    result = _query(done.headers["location"])
    assert done.headers["location"].startswith(RP_REDIRECT) and result["state"] == trip.state
    tokens = httpx.post(
        f"{city.url}{API}/token",
        data={
            "grant_type": "authorization_code",
            "client_id": "city-console",
            "code": result["code"],
            "redirect_uri": RP_REDIRECT,
            "code_verifier": trip.verifier,
        },
    )
    assert tokens.status_code == 200, tokens.text
    return dict(tokens.json())


def _sign_in_through_province(
    browser: httpx.Client, city: Served, province: Served, username: str, password: str
) -> tuple[dict[str, Any], bool]:
    trip = _to_province_and_back(browser, city, province, username, password)
    return _finish(browser, city, trip), trip.form_shown


def _get(url: str, token: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_provincial_inspector_signs_in_on_the_city_with_the_mapped_role_only(
    platforms: tuple[Served, Served],
) -> None:
    province, city = platforms
    username, password, province_user, auditor_binding, secret = _setup_province(province, city)
    _setup_city(city, province, secret)

    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        tokens, form_shown = _sign_in_through_province(browser, city, province, username, password)
        assert form_shown
        access = tokens["access_token"]
        # No refresh token: the next token means a new sign-in, re-evaluated at the province.
        assert "refresh_token" not in tokens and tokens["id_token"]
        # The city's own tokens: its issuer, its keys.
        claims = httpx.get(f"{city.url}{API}/userinfo", headers={"Authorization": f"Bearer {access}"}).json()
        assert claims["roles"] == [{"role": "auditor", "site": CITY_SITE}], claims
        assert claims["preferred_username"].startswith("province:") and claims["name"] == "李检查"

        # Allowed where a site auditor may; refused elsewhere.
        oversight = f"{city.url}/api/oversight/v1"
        assert _get(f"{oversight}/sites/{CITY_SITE}/alerts", access).status_code == 200
        assert _get(f"{oversight}/sites/{OTHER_SITE}/alerts", access).status_code == 403
        assert _get(f"{oversight}/scorecards", access).status_code == 403  # platform-wide: not mapped
        assert _get(f"{city.url}{API}/audit", access).status_code == 403
        assert _get(f"{city.url}{API}/federation/issuers", access).status_code == 403

        # The mapping report: what mapped, what did not (editor at a provincial site), what was not used.
        report = city.admin("GET", "/federation/issuers/province/signins")
        assert report.status_code == 200, report.text
        first = report.json()["items"][0]
        assert first["mapped"] == [
            {
                "claim": {"role": "auditor", "site": None},
                "mapped_to": [{"role": "auditor", "site": CITY_SITE}],
            }
        ]
        assert first["unmapped"] == [{"role": "editor", "site": "prov-news"}]
        assert first["unused_claims"] == ["user_kind"] and first["preferred_username"] == username
        audit = city.admin("GET", "/audit", params={"action": "federation.signin"}).json()["items"]
        assert audit and audit[0]["detail"]["unmapped"] == [{"role": "editor", "site": "prov-news"}]
        # Its bindings are the mapping's: nobody adds to them by hand.
        local_id = int(claims["sub"])
        added = city.admin("POST", f"/users/{local_id}/roles", json={"role": "editor", "site": CITY_SITE})
        assert added.status_code == 409, added.text

        # The province takes the auditor role away: the next sign-in takes the city's away.
        removed = province.admin("DELETE", f"/users/{province_user}/roles/{auditor_binding}")
        assert removed.status_code == 204, removed.text
        again, form_shown = _sign_in_through_province(browser, city, province, username, password)
        assert not form_shown  # the province's single sign-on; the city re-evaluated all the same
        claims = httpx.get(
            f"{city.url}{API}/userinfo", headers={"Authorization": f"Bearer {again['access_token']}"}
        ).json()
        assert claims["sub"] == str(local_id) and claims["roles"] == []
        assert _get(f"{oversight}/sites/{CITY_SITE}/alerts", again["access_token"]).status_code == 403
        latest = city.admin("GET", "/federation/issuers/province/signins").json()["items"][0]
        assert latest["removed"] == [{"role": "auditor", "site": CITY_SITE}] and latest["bindings"] == []

        # The province's answer delivered to another browser (login CSRF) is refused; the
        # browser that started the sign-in still finishes it.
        trip = _to_province_and_back(browser, city, province, username, password)
        with httpx.Client(timeout=30, follow_redirects=False) as other:
            assert other.get(trip.back).status_code == 400
        reason = city.admin("GET", "/audit", params={"action": "federation.refused"}).json()["items"][0]
        assert reason["detail"]["reason"] == "callback in another browser than the one that started it"
        assert _finish(browser, city, trip)["access_token"]
        replay = browser.get(trip.back)  # the same answer twice
        assert replay.status_code == 400

        # A callback nobody started (another browser's code, a replay) is refused and recorded.
        stray = browser.get(f"{city.url}{API}/federation/callback", params={"code": "x", "state": "forged"})
        assert stray.status_code == 400
        refused = city.admin("GET", "/audit", params={"action": "federation.refused"}).json()["items"]
        assert refused and refused[0]["detail"]["reason"] == "callback with an unknown state"

    # A token the province signed, presented directly to the city, is refused; so is a forgery.
    provincial = httpx.post(
        f"{province.url}{API}/token",
        data={
            "grant_type": "password",
            "client_id": "jiyue-console",
            "username": username,
            "password": password,
        },
    )
    assert provincial.status_code == 200, provincial.text
    province_token = provincial.json()["access_token"]
    assert _get(f"{province.url}{API}/userinfo", province_token).status_code == 200
    assert _get(f"{city.url}{API}/userinfo", province_token).status_code == 401
    assert _get(f"{city.url}/api/oversight/v1/scorecards", province_token).status_code == 401
    city_kid = httpx.get(f"{city.url}/.well-known/jwks.json").json()["keys"][0]["kid"]
    forger = TestIssuer(kid=city_kid)  # the city's kid, another key
    forged = forger.token("1", [("platform_admin", None)], iss=city.url, aud="jiyue")
    assert _get(f"{city.url}{API}/userinfo", forged).status_code == 401
    assert _get(f"{city.url}/api/oversight/v1/scorecards", forged).status_code == 401
