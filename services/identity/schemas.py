"""Request and response models of the identity API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from services.kernel.clock import WireDateTime
from services.kernel.mail import EmailAddress
from services.kernel.roles import ADMIN_ROLES, SITE_ROLES, Role

# What a staff account may be granted: citizens hold their role by being citizens.
STAFF_ROLES: tuple[Role, ...] = (*ADMIN_ROLES, *SITE_ROLES)

Grant = Literal["authorization_code", "refresh_token", "password", "client_credentials"]

Username = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", description="用户名")


class OrgIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="机构代码")
    name: str = Field(min_length=1, max_length=200, description="机构名称")
    kind: Literal["province", "city", "district", "county", "department"]
    parent_code: str | None = Field(default=None, description="上级机构代码；省级为空")


class OrgPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class OrgOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    parent_code: str | None
    created_at: WireDateTime


class UserIn(BaseModel):
    username: str = Username
    display_name: str = Field(min_length=1, max_length=100, description="姓名")
    password: str = Field(min_length=1, max_length=128, description="初始密码")
    org_code: str | None = Field(default=None, description="所属机构代码")
    kind: Literal["staff", "citizen"] = "staff"
    email: EmailAddress | None = Field(default=None, description="电子邮箱（接收预警等通知）")


class UserPatch(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    org_code: str | None = None
    email: EmailAddress | None = Field(default=None, description="电子邮箱（接收预警等通知）")
    status: Literal["active", "disabled"] | None = None
    password: str | None = Field(default=None, min_length=1, max_length=128, description="重置密码")
    unlock: bool = Field(default=False, description="解除因登录失败造成的锁定")


class RegisterIn(BaseModel):
    username: str = Username
    password: str = Field(min_length=1, max_length=128, description="密码")
    display_name: str = Field(min_length=1, max_length=100, description="姓名或昵称")


class RoleOut(BaseModel):
    id: int
    role: Role
    site: str | None
    created_at: WireDateTime
    created_by: str


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    org_code: str | None
    kind: str
    status: str
    locked: bool
    roles: list[RoleOut]
    created_at: WireDateTime
    email: str | None = None


class RoleIn(BaseModel):
    role: Role = Field(description="管理员角色或站点角色（citizen 不能授予）")
    site: str | None = Field(default=None, max_length=64, description="站点代码；空表示全平台")

    @field_validator("role")
    @classmethod
    def _staff_role(cls, value: Role) -> Role:
        if value not in STAFF_ROLES:
            raise ValueError(f"只能授予 {'、'.join(STAFF_ROLES)} 之一")
        return value


class ClientIn(BaseModel):
    client_id: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["public", "confidential"]
    redirect_uris: list[str] = Field(default_factory=list, description="回调地址（精确匹配）")
    grants: list[Grant] = Field(default=["authorization_code", "refresh_token"])
    scopes: str = Field(default="openid profile", max_length=500)
    site: str | None = Field(default=None, max_length=64, description="托管站点代码")
    first_party: bool = False


class ClientPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    redirect_uris: list[str] | None = None
    grants: list[Grant] | None = None
    scopes: str | None = Field(default=None, max_length=500)
    status: Literal["active", "disabled"] | None = None
    rotate_secret: bool = False


class ClientOut(BaseModel):
    client_id: str
    name: str
    kind: str
    redirect_uris: list[str]
    grants: list[str]
    scopes: str
    site: str | None
    first_party: bool
    status: str
    client_secret: str | None = Field(default=None, description="仅在创建或轮换时返回一次")


class AuditOut(BaseModel):
    seq: int
    at: WireDateTime
    actor: str
    action: str
    target: str
    address: str
    detail: dict[str, Any]
    hash: str


class ChainOut(BaseModel):
    ok: bool
    rows: int
    first_broken_seq: int | None
    first_broken_id: int | None
    reason: str | None


class PolicyIn(BaseModel):
    password_min_length: int = Field(ge=8, le=64)
    lockout_max_failures: int = Field(ge=1, le=100)
    lockout_window_seconds: int = Field(ge=60, le=86400)
    lockout_seconds: int = Field(ge=60, le=86400)


class PolicyOut(PolicyIn):
    updated_at: WireDateTime | None = None
    updated_by: str | None = None


class KeyOut(BaseModel):
    kid: str
    alg: str
    status: str
    created_at: WireDateTime
    retired_at: WireDateTime | None
    retire_after: WireDateTime | None


class RotateOut(BaseModel):
    active: str
    retired: list[str]
    pruned: int


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str
    refresh_token: str | None = None
    id_token: str | None = None


class RevokeOut(BaseModel):
    """RFC 7009 answers 200 with an empty body object whether or not the token was known."""


class UserInfoOut(BaseModel):
    """OIDC UserInfo for a person; for a machine client only sub, kind and client_id."""

    sub: str
    kind: Literal["user", "client"]
    name: str | None = None
    preferred_username: str | None = None
    org: str | None = None
    roles: list[dict[str, Any]] | None = None
    user_kind: str | None = None
    client_id: str | None = None


class DiscoveryOut(BaseModel):
    """OpenID Provider Metadata (OIDC Discovery 1.0 section 3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    revocation_endpoint: str
    registration_endpoint: str
    jwks_uri: str
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    scopes_supported: list[str]
    claims_supported: list[str]
    ui_locales_supported: list[str]


class JwksOut(BaseModel):
    """The public signing keys (RFC 7517 JWK Set)."""

    keys: list[dict[str, Any]]


# -- identity federation ------------------------------------------------------------------

IssuerCode = Field(
    min_length=2, max_length=32, pattern=r"^[a-z0-9][a-z0-9\-]*$", description="受信签发方代码（用于地址）"
)


class ClaimRule(BaseModel):
    """One provincial role binding → one local binding. Admin roles are never mapped: the
    three administrators of 三员分立 are this platform's own people."""

    source_role: str = Field(min_length=1, max_length=64, description="签发方令牌中的角色，如 inspector")
    source_site: str | None = Field(
        default=None,
        max_length=64,
        description="签发方角色绑定的站点；空 = 签发方的全平台角色；* = 任意站点",
    )
    role: Literal["site_admin", "editor", "reviewer", "auditor"] = Field(description="本平台角色")
    site: str | None = Field(default=None, max_length=64, description="本平台站点代码；空 = 全平台")


class TrustedIssuerIn(BaseModel):
    code: str = IssuerCode
    name: str = Field(min_length=1, max_length=100, description="显示名，如 省级平台")
    issuer: str = Field(
        min_length=8,
        max_length=500,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="OIDC issuer 地址",
    )
    client_id: str = Field(min_length=1, max_length=128, description="本平台在签发方登记的客户端")
    client_secret: str | None = Field(
        default=None, min_length=1, max_length=500, description="该客户端的密钥"
    )
    mapping: list[ClaimRule] = Field(default_factory=list, max_length=200)

    @field_validator("issuer")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class TrustedIssuerPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    client_id: str | None = Field(default=None, min_length=1, max_length=128)
    client_secret: str | None = Field(default=None, min_length=1, max_length=500)
    mapping: list[ClaimRule] | None = Field(default=None, max_length=200)
    status: Literal["active", "disabled"] | None = None


class TrustedIssuerOut(BaseModel):
    code: str
    name: str
    issuer: str
    client_id: str
    has_client_secret: bool
    mapping: list[ClaimRule]
    status: Literal["active", "disabled"]
    redirect_uri: str = Field(description="须在签发方为该客户端登记的回调地址")
    created_at: WireDateTime
    updated_at: WireDateTime
    updated_by: str


class SourceBinding(BaseModel):
    role: str
    site: str | None


class LocalBinding(BaseModel):
    role: Role
    site: str | None


class ClaimOutcome(BaseModel):
    claim: SourceBinding
    mapped_to: list[LocalBinding] = Field(description="空 = 未映射（不授予任何权限）")


class FederatedSignInOut(BaseModel):
    id: int
    issuer: str
    subject: str
    username: str
    preferred_username: str
    at: WireDateTime
    mapped: list[ClaimOutcome]
    unmapped: list[SourceBinding]
    unused_claims: list[str] = Field(description="收到但本平台不使用的声明名称")
    bindings: list[LocalBinding] = Field(description="本次登录后该账号的全部角色绑定")
    removed: list[LocalBinding] = Field(description="本次登录收回的绑定（签发方已不再授予）")
