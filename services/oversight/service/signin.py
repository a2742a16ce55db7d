"""The dashboard as an OIDC client of the platform's identity: authorization code with PKCE.

The browser is sent to identity's own sign-in page; the code comes back to the callback, which
redeems it over the back channel. What the browser then holds is a signed, HttpOnly cookie with
the access token, verified like any bearer token on every page. When the token lapses the next
page goes round identity again, and identity's single sign-on answers without a form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

import httpx
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.kernel.client import DASHBOARD_CALLBACK_PATH, DASHBOARD_CLIENT_ID
from services.kernel.errors import ServiceUnavailable, Unauthorized
from services.kernel.runtime import check_secret, read_or_create_secret
from services.oversight.settings import OversightSettings

DASHBOARD_PATH = "/api/oversight/v1/dashboard"
SESSION_COOKIE = "jiyue_dashboard"
LOGIN_COOKIE = "jiyue_dashboard_login"
# How long a started sign-in may take at identity's page before its state is forgotten.
LOGIN_SECONDS = 600
# A session cookie older than this is ignored even if its token were still valid; tokens
# themselves lapse much sooner (identity's access-token lifetime) and are checked on every page.
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class LoginState:
    state: str
    verifier: str
    next: str


@dataclass(frozen=True)
class Grant:
    access_token: str
    expires_in: int


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def safe_next(target: str | None) -> str:
    """Only a path of the dashboard itself: a sign-in never becomes an open redirect. Quoted,
    so that it can stand in a Location header whatever the browser sent."""
    if not target:
        return DASHBOARD_PATH
    try:
        parts = urlsplit(target)
    except ValueError:
        return DASHBOARD_PATH
    inside = parts.path == DASHBOARD_PATH or parts.path.startswith(DASHBOARD_PATH + "/")
    if parts.scheme or parts.netloc or "\\" in target or not inside or ".." in parts.path:
        return DASHBOARD_PATH
    path = quote(parts.path, safe="/%-._~")
    return path + (f"?{quote(parts.query, safe='=&%+-._~')}" if parts.query else "")


class DashboardSignIn:
    def __init__(self, settings: OversightSettings) -> None:
        secret = (
            check_secret(settings.dashboard_session_secret, "JIYUE_DASHBOARD_SESSION_SECRET")
            if settings.dashboard_session_secret
            else read_or_create_secret(settings, "dashboard-session")
        )
        self._signer = URLSafeTimedSerializer(secret, salt="jiyue-dashboard")
        self.issuer = settings.issuer
        self.redirect_uri = settings.issuer + DASHBOARD_CALLBACK_PATH
        # The public URL decides: behind a TLS-terminating gateway the service sees plain http.
        self.secure = settings.issuer.lower().startswith("https://")

    # -- starting a sign-in --------------------------------------------------------------------

    def start(self, next_path: str | None) -> tuple[str, str]:
        """Where to send the browser, and the signed cookie that remembers this attempt."""
        login = LoginState(secrets.token_urlsafe(24), secrets.token_urlsafe(48), safe_next(next_path))
        query = urlencode(
            {
                "response_type": "code",
                "client_id": DASHBOARD_CLIENT_ID,
                "redirect_uri": self.redirect_uri,
                "scope": "openid profile",
                "state": login.state,
                "code_challenge": _challenge(login.verifier),
                "code_challenge_method": "S256",
            }
        )
        cookie = self._signer.dumps({"s": login.state, "v": login.verifier, "n": login.next})
        return f"{self.issuer}/api/identity/v1/authorize?{query}", cookie

    def login_state(self, cookie: str | None, state: str | None) -> LoginState:
        if not cookie or not state:
            raise Unauthorized("登录请求已失效，请重新登录")
        try:
            data = self._signer.loads(cookie, max_age=LOGIN_SECONDS)
        except BadSignature as exc:
            raise Unauthorized("登录请求已失效，请重新登录") from exc
        if not hmac.compare_digest(str(data.get("s", "")), state):
            raise Unauthorized("登录请求的 state 不一致，请重新登录")
        return LoginState(str(data["s"]), str(data["v"]), safe_next(str(data.get("n", ""))))

    async def redeem(self, identity: httpx.AsyncClient, code: str, login: LoginState) -> Grant:
        resp = await identity.post(
            "/api/identity/v1/token",
            data={
                "grant_type": "authorization_code",
                "client_id": DASHBOARD_CLIENT_ID,
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": login.verifier,
            },
        )
        if resp.status_code >= 500:
            raise ServiceUnavailable("统一身份认证暂不可用")
        if resp.status_code != 200:
            raise Unauthorized("授权码无效或已过期，请重新登录")
        body = resp.json()
        return Grant(str(body["access_token"]), int(body.get("expires_in", 300)))

    # -- the session ---------------------------------------------------------------------------

    def session_cookie(self, grant: Grant) -> str:
        return self._signer.dumps({"t": grant.access_token})

    def session_token(self, cookie: str | None) -> str | None:
        """The access token a session cookie carries, or None when it is absent or forged."""
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        token = data.get("t") if isinstance(data, dict) else None
        return token if isinstance(token, str) else None

    def csrf_token(self, session_cookie: str) -> str:
        """Bound to the session: a form from another session (or another site) does not match."""
        return hmac.new(self._signer.secret_keys[-1], session_cookie.encode(), "sha256").hexdigest()

    def csrf_matches(self, session_cookie: str | None, submitted: str | None) -> bool:
        if not session_cookie or not submitted:
            return False
        return hmac.compare_digest(self.csrf_token(session_cookie), submitted)
