"""Request and response models of the identity API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

ORG_KINDS = ("province", "city", "district", "county", "department")
ALL_ROLES = (
    "platform_admin",
    "security_admin",
    "audit_admin",
    "site_admin",
    "editor",
    "reviewer",
    "auditor",
)
GRANTS = ("authorization_code", "refresh_token", "password", "client_credentials")
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
    created_at: str


class UserIn(BaseModel):
    username: str = Username
    display_name: str = Field(min_length=1, max_length=100, description="姓名")
    password: str = Field(min_length=1, max_length=128, description="初始密码")
    org_code: str | None = Field(default=None, description="所属机构代码")
    kind: Literal["staff", "citizen"] = "staff"


class UserPatch(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    org_code: str | None = None
    status: Literal["active", "disabled"] | None = None
    password: str | None = Field(default=None, min_length=1, max_length=128, description="重置密码")
    unlock: bool = Field(default=False, description="解除因登录失败造成的锁定")


class RegisterIn(BaseModel):
    username: str = Username
    password: str = Field(min_length=1, max_length=128, description="密码")
    display_name: str = Field(min_length=1, max_length=100, description="姓名或昵称")


class RoleOut(BaseModel):
    id: int
    role: str
    site: str | None
    created_at: str
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
    created_at: str


class RoleIn(BaseModel):
    role: Literal[
        "platform_admin", "security_admin", "audit_admin", "site_admin", "editor", "reviewer", "auditor"
    ]
    site: str | None = Field(default=None, max_length=64, description="站点代码；空表示全平台")


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
    at: str
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
    updated_at: str | None = None
    updated_by: str | None = None


class KeyOut(BaseModel):
    kid: str
    alg: str
    status: str
    created_at: str
    retired_at: str | None
    retire_after: str | None


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
