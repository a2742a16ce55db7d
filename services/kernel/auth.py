"""Local verification of identity's access tokens against its cached JWKS.

No service calls identity per request: the key set is fetched once, cached, and refreshed
only when a token names a `kid` we have not seen (rate-limited, so a flood of forged kids
cannot turn into a flood of JWKS fetches).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from jose import jwk, jwt
from jose.exceptions import JOSEError

from services.kernel.errors import Forbidden, Unauthorized
from services.kernel.roles import ADMIN_ROLES, SITE_ROLES

ALLOWED_ALGORITHMS = ("ES256", "RS256")
_KTY_FOR_ALG = {"ES256": "EC", "RS256": "RSA"}

PLATFORM_ROLES = ADMIN_ROLES
__all__ = ["PLATFORM_ROLES", "SITE_ROLES", "Principal", "RoleBinding", "TokenVerifier"]


@dataclass(frozen=True)
class RoleBinding:
    role: str
    site: str | None  # None: platform-wide


@dataclass(frozen=True)
class Principal:
    sub: str
    kind: str  # "user" or "client"
    name: str = ""
    roles: tuple[RoleBinding, ...] = ()
    scopes: frozenset[str] = field(default_factory=frozenset)
    org: str | None = None
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def has_role(self, role: str, site: str | None = None) -> bool:
        """A platform-wide binding counts on every site; a site binding only on its site."""
        return any(b.role == role and (b.site is None or b.site == site) for b in self.roles)

    def has_any_role(self, roles: tuple[str, ...] | list[str], site: str | None = None) -> bool:
        return any(self.has_role(r, site) for r in roles)

    def sites_with(self, *roles: str) -> set[str | None]:
        """Sites on which the principal holds one of `roles` (None means every site)."""
        return {b.site for b in self.roles if b.role in roles}

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_internal(self) -> bool:
        return "internal" in self.scopes

    def require(self, role: str | tuple[str, ...], site: str | None = None) -> None:
        roles = (role,) if isinstance(role, str) else role
        if self.is_internal or self.has_any_role(roles, site):
            return
        raise Forbidden(f"需要角色 {'/'.join(roles)}" + (f"（站点 {site}）" if site else ""))

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        roles = tuple(
            RoleBinding(role=str(r.get("role")), site=r.get("site"))
            for r in claims.get("roles", [])
            if isinstance(r, dict)
        )
        scopes = frozenset(str(claims.get("scope", "")).split())
        return cls(
            sub=str(claims["sub"]),
            kind=str(claims.get("kind", "user")),
            name=str(claims.get("name", claims.get("preferred_username", ""))),
            roles=roles,
            scopes=scopes,
            org=claims.get("org"),
            client_id=claims.get("client_id"),
            claims=claims,
        )


JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


class TokenVerifier:
    def __init__(
        self,
        fetch_jwks: JwksFetcher,
        *,
        issuer: str,
        audience: str,
        cache_seconds: int = 300,
        refetch_interval: float = 10.0,
    ) -> None:
        self._fetch = fetch_jwks
        self.issuer = issuer
        self.audience = audience
        self.cache_seconds = cache_seconds
        self.refetch_interval = refetch_interval
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        # Verified tokens, so a hot token costs a dict lookup; bounded and expiry-checked.
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._cache_max = 10_000

    @property
    def jwks_source(self) -> JwksFetcher:
        """Where this verifier's keys come from (so a test can trust its keys and another's)."""
        return self._fetch

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            now = time.monotonic()
            fresh = now - self._fetched_at < self.cache_seconds
            if self._keys and fresh and not force:
                return
            if force and now - self._fetched_at < self.refetch_interval:
                return
            try:
                data = await self._fetch()
            except Exception as exc:
                if self._keys:  # keep serving with the keys we have
                    return
                raise Unauthorized("无法获取签名公钥") from exc
            self._keys = {k["kid"]: k for k in data.get("keys", []) if "kid" in k}
            self._fetched_at = now

    async def key_for(self, kid: str) -> dict[str, Any] | None:
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        return self._keys.get(kid)

    def forget(self, token: str) -> None:
        self._cache.pop(token, None)

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            exp, principal = cached
            if time.time() < exp:
                return principal
            self._cache.pop(token, None)
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthorized("令牌格式错误") from exc
        alg = header.get("alg")
        kid = header.get("kid")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthorized("不接受的签名算法")
        if not kid or not isinstance(kid, str):
            raise Unauthorized("令牌缺少 kid")
        key = await self.key_for(kid)
        if key is None:
            raise Unauthorized("未知的签名密钥")
        if key.get("kty") != _KTY_FOR_ALG[alg] or key.get("alg", alg) != alg:
            raise Unauthorized("签名算法与密钥不符")
        try:
            public = jwk.construct(key, algorithm=alg)
            claims = jwt.decode(
                token,
                public,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={"require_exp": True, "require_iat": True, "require_sub": True},
            )
        except JOSEError as exc:
            raise Unauthorized(f"令牌无效: {exc}") from exc
        if claims.get("token_use", "access") != "access":
            raise Unauthorized("不是访问令牌")
        principal = Principal.from_claims(claims)
        self._cache[token] = (float(claims["exp"]), principal)
        if len(self._cache) > self._cache_max:
            self._cache.popitem(last=False)
        return principal
