"""OIDC discovery and the signing keys, at the app root (the gateway routes /.well-known/ here)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.identity.api.common import RuntimeDep
from services.identity.schemas import DiscoveryOut, JwksOut
from services.identity.service import keys
from services.kernel.deps import SessionDep

router = APIRouter(tags=["OIDC"])


@router.get("/.well-known/openid-configuration", response_model=DiscoveryOut, summary="OIDC 发现文档")
async def openid_configuration(rt: RuntimeDep) -> DiscoveryOut:
    issuer = rt.settings.issuer
    api = f"{issuer}/api/identity/v1"
    return DiscoveryOut.model_validate(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{api}/authorize",
            "token_endpoint": f"{api}/token",
            "userinfo_endpoint": f"{api}/userinfo",
            "revocation_endpoint": f"{api}/revoke",
            "registration_endpoint": f"{api}/register",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "password",
                "client_credentials",
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [keys.ALG],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "changes:read", "internal"],
            "claims_supported": ["sub", "name", "preferred_username", "org", "roles", "nonce", "auth_time"],
            "ui_locales_supported": ["zh-CN"],
        }
    )


@router.get("/.well-known/jwks.json", response_model=JwksOut, summary="签名公钥（JWKS）")
async def jwks(session: SessionDep) -> JSONResponse:
    body = await keys.jwks(session)
    # Short cache: a rotated-in key must reach services soon; they also refetch on unknown kid.
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})
