"""Authorization code + PKCE with a real OAuth client library, single sign-on, page defences."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.jose import JsonWebKey, JsonWebToken

from tests.identity.helpers import API, bearer, internal_token, make_user
from tests.identity.oidc import browser, hidden_fields, register_client, relying_party, sign_in
from tests.support.platform import Platform

SITE_A = "https://jtj.sfs.gov.cn/auth/callback"
SITE_B = "https://jyj.sfs.gov.cn/auth/callback"


async def _discovery(platform: Platform) -> dict[str, str]:
    resp = await platform.client.get("/.well-known/openid-configuration")
    assert resp.status_code == 200
    doc: dict[str, str] = resp.json()
    assert doc["issuer"] == platform.settings.issuer
    assert doc["code_challenge_methods_supported"] == ["S256"]
    return doc


def _local(url: str) -> str:
    """Discovery names the public URL; the in-process client reaches the same paths at localhost."""
    parts = urlsplit(url)
    return f"http://localhost{parts.path}" + (f"?{parts.query}" if parts.query else "")


async def _verify_id_token(
    platform: Platform, id_token: str, client_id: str, nonce: str
) -> dict[str, object]:
    jwks = (await platform.client.get("/.well-known/jwks.json")).json()
    claims = JsonWebToken(["ES256"]).decode(
        id_token,
        JsonWebKey.import_key_set(jwks),
        claims_options={
            "iss": {"essential": True, "value": platform.settings.issuer},
            "aud": {"essential": True, "value": client_id},
            "nonce": {"essential": True, "value": nonce},
            "sub": {"essential": True},
        },
    )
    claims.validate()
    return dict(claims)


async def test_authorization_code_pkce_with_authlib_then_sso_on_a_second_site(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    user_id, password = await make_user(platform.client, admin, "zhangsan", [("editor", "jtj")])
    await register_client(platform, admin, "site-jtj", SITE_A)
    secret_b = await register_client(platform, admin, "site-jyj", SITE_B, kind="confidential")
    assert secret_b
    doc = await _discovery(platform)
    page = browser(platform)

    rp = relying_party(platform, "site-jtj", SITE_A)
    verifier = generate_token(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(
        _local(doc["authorization_endpoint"]), code_verifier=verifier, nonce=nonce
    )
    answer = await sign_in(page, url, "zhangsan", password)
    assert answer.status_code == 303, answer.text[:500]
    location = answer.headers["location"]
    assert location.startswith(SITE_A) and parse_qs(urlsplit(location).query)["state"] == [state]
    sso_cookie = answer.headers["set-cookie"]
    assert "jiyue_sso=" in sso_cookie and "HttpOnly" in sso_cookie and "SameSite=lax" in sso_cookie

    token = await rp.fetch_token(
        _local(doc["token_endpoint"]), authorization_response=location, code_verifier=verifier
    )
    claims = await _verify_id_token(platform, token["id_token"], "site-jtj", nonce)
    assert claims["sub"] == str(user_id) and claims["preferred_username"] == "zhangsan"
    info = await rp.get(_local(doc["userinfo_endpoint"]))
    assert info.status_code == 200
    assert info.json()["sub"] == str(user_id) and info.json()["roles"] == [{"role": "editor", "site": "jtj"}]
    # Another service verifies the token too: authenticated (not 401), only lacking the feed scope.
    feed = await platform.client.get("/api/search/v1/changes", headers=bearer(token["access_token"]))
    assert feed.status_code == 403

    # The same browser on a second hosted site: no form, a code straight away (single sign-on).
    rp_b = relying_party(platform, "site-jyj", SITE_B, secret_b)
    verifier_b, nonce_b = generate_token(48), secrets.token_urlsafe(16)
    url_b, _ = rp_b.create_authorization_url(
        _local(doc["authorization_endpoint"]), code_verifier=verifier_b, nonce=nonce_b
    )
    straight = await page.get(url_b)
    assert straight.status_code == 303, straight.text[:300]
    token_b = await rp_b.fetch_token(
        _local(doc["token_endpoint"]),
        authorization_response=straight.headers["location"],
        code_verifier=verifier_b,
    )
    claims_b = await _verify_id_token(platform, token_b["id_token"], "site-jyj", nonce_b)
    assert claims_b["sub"] == claims["sub"]

    # A browser without the session sees the form again.
    fresh = browser(platform)
    assert (await fresh.get(url_b)).status_code == 200
    # Signing out ends the session for every site: the form comes back in the same browser.
    out = await page.post(f"{API}/logout")
    assert out.status_code == 204
    page.cookies.clear()
    page.cookies.set("jiyue_sso", sso_cookie.split(";")[0].split("=", 1)[1])  # a copied cookie is dead too
    assert (await page.get(url_b)).status_code == 200


async def test_code_is_single_use_and_bound_to_the_verifier(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    _, password = await make_user(platform.client, admin, "lisi")
    await register_client(platform, admin, "site-jtj", SITE_A)
    rp = relying_party(platform, "site-jtj", SITE_A)
    verifier = generate_token(48)
    url, _ = rp.create_authorization_url(
        f"http://localhost{API}/authorize", code_verifier=verifier, nonce="n1"
    )
    answer = await sign_in(browser(platform), url, "lisi", password)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "client_id": "site-jtj", "code": code, "redirect_uri": SITE_A}
    wrong = await platform.client.post(f"{API}/token", data={**form, "code_verifier": generate_token(48)})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt burnt the code: the right verifier cannot use it afterwards.
    late = await platform.client.post(f"{API}/token", data={**form, "code_verifier": verifier})
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


async def test_authorize_rejects_unregistered_redirect_and_plain_pkce(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    await register_client(platform, admin, "site-jtj", SITE_A)
    page = browser(platform)
    base = {"response_type": "code", "client_id": "site-jtj", "state": "s1", "code_challenge": "x" * 43}
    evil = await page.get(
        f"{API}/authorize",
        params={**base, "redirect_uri": "https://evil.example/cb", "code_challenge_method": "S256"},
    )
    assert (
        evil.status_code == 400 and "location" not in evil.headers
    )  # never redirected to an unknown address
    plain = await page.get(
        f"{API}/authorize", params={**base, "redirect_uri": SITE_A, "code_challenge_method": "plain"}
    )
    assert plain.status_code == 303
    query = parse_qs(urlsplit(plain.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["s1"]


async def test_sign_in_page_is_accessible_and_defended(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    _, password = await make_user(platform.client, admin, "wangwu")
    await register_client(platform, admin, "site-jtj", SITE_A)
    rp = relying_party(platform, "site-jtj", SITE_A)
    url, _ = rp.create_authorization_url(f"http://localhost{API}/authorize", code_verifier=generate_token(48))
    page_client = browser(platform)
    page = await page_client.get(url)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert '<html lang="zh-CN">' in page.text
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert "<script" not in page.text  # works without JavaScript
    form = hidden_fields(page.text)
    assert form["csrf_token"]

    # Forged cross-site post: the attacker's page cannot read or set our CSRF cookie.
    attacker = browser(platform)
    forged = await attacker.post(
        f"{API}/authorize", data={**form, "username": "wangwu", "password": password}
    )
    assert forged.status_code == 403 and "CSRF" in forged.text
    tampered = await page_client.post(
        f"{API}/authorize", data={**form, "csrf_token": "x" * 43, "username": "wangwu", "password": password}
    )
    assert tampered.status_code == 403
    genuine = await page_client.post(
        f"{API}/authorize", data={**form, "username": "wangwu", "password": password}
    )
    assert genuine.status_code == 303


async def test_wrong_password_on_the_page_shows_an_alert(platform: Platform) -> None:
    admin = await internal_token(platform.client, platform.settings)
    await make_user(platform.client, admin, "zhaoliu")
    await register_client(platform, admin, "site-jtj", SITE_A)
    rp = relying_party(platform, "site-jtj", SITE_A)
    url, _ = rp.create_authorization_url(f"http://localhost{API}/authorize", code_verifier=generate_token(48))
    answer = await sign_in(browser(platform), url, "zhaoliu", "Wrong-password-1")
    assert answer.status_code == 401
    assert 'role="alert"' in answer.text and "用户名或密码错误" in answer.text
    assert isinstance(answer, httpx.Response) and "jiyue_sso" not in answer.headers.get("set-cookie", "")
