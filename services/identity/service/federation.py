"""Trusted issuers and their claims-to-bindings mapping, run by the security administrator.

The pain point of identity brokers is the claim that silently does not map: here every
sign-in's claims are sorted into mapped (to which local bindings), not mapped (no right at
all) and not used, stored per sign-in for the operators and written to the audit log.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import FederatedSignIn, TrustedIssuer, User
from services.identity.schemas import (
    ClaimOutcome,
    ClaimRule,
    FederatedSignInOut,
    LocalBinding,
    SourceBinding,
    TrustedIssuerIn,
    TrustedIssuerOut,
    TrustedIssuerPatch,
)
from services.identity.service import audit
from services.identity.service.common import Actor, now
from services.identity.service.federation_client import IssuerClient
from services.identity.service.runtime import IdentityRuntime
from services.identity.settings import IdentitySettings
from services.kernel import clock
from services.kernel.errors import Conflict, NotFound
from services.kernel.roles import Role

CALLBACK_PATH = "/api/identity/v1/federation/callback"
# Claims this platform reads from a trusted issuer; anything else is reported as not used.
_USED_CLAIMS = frozenset({"sub", "name", "preferred_username", "roles", "kind"})
# Claims OIDC itself defines for the token's own checks (verified, not about the person).
_PROTOCOL_CLAIMS = frozenset(
    {"iss", "aud", "azp", "exp", "iat", "nbf", "nonce", "at_hash", "auth_time", "token_use", "jti"}
)


def callback_uri(settings: IdentitySettings) -> str:
    return settings.issuer + CALLBACK_PATH


def _seal(rt: IdentityRuntime, code: str, secret: str | None) -> str | None:
    return rt.keys.encrypt(f"federation:{code}", secret.encode()) if secret else None


def issuer_client(rt: IdentityRuntime, row: TrustedIssuer) -> IssuerClient:
    secret = None
    if row.client_secret_encrypted:
        secret = rt.keys.decrypt(f"federation:{row.code}", row.client_secret_encrypted).decode()
    return IssuerClient(row.issuer, row.client_id, secret)


def issuer_out(row: TrustedIssuer, settings: IdentitySettings) -> TrustedIssuerOut:
    return TrustedIssuerOut(
        code=row.code,
        name=row.name,
        issuer=row.issuer,
        client_id=row.client_id,
        has_client_secret=bool(row.client_secret_encrypted),
        mapping=[ClaimRule.model_validate(r) for r in row.mapping],
        status="disabled" if row.status == "disabled" else "active",
        redirect_uri=callback_uri(settings),
        created_at=clock.from_epoch(row.created_at),
        updated_at=clock.from_epoch(row.updated_at),
        updated_by=row.updated_by,
    )


def _rules_json(rules: list[ClaimRule]) -> list[dict[str, object]]:
    return [r.model_dump(mode="json") for r in rules]


async def issuer_by_code(session: AsyncSession, code: str) -> TrustedIssuer:
    row = (
        (await session.execute(select(TrustedIssuer).where(col(TrustedIssuer.code) == code)))
        .scalars()
        .first()
    )
    if row is None:
        raise NotFound(f"受信签发方 {code} 不存在")
    return row


async def list_issuers(session: AsyncSession, *, active_only: bool = False) -> list[TrustedIssuer]:
    stmt = select(TrustedIssuer).order_by(col(TrustedIssuer.id))
    if active_only:
        stmt = stmt.where(col(TrustedIssuer.status) == "active")
    return list((await session.execute(stmt)).scalars().all())


async def create_issuer(
    session: AsyncSession, rt: IdentityRuntime, data: TrustedIssuerIn, actor: Actor
) -> TrustedIssuer:
    if data.issuer == rt.settings.issuer:
        raise Conflict("不能把本平台自己登记为受信签发方")
    existing = await session.execute(
        select(TrustedIssuer).where(
            (col(TrustedIssuer.code) == data.code) | (col(TrustedIssuer.issuer) == data.issuer)
        )
    )
    if existing.scalars().first() is not None:
        raise Conflict(f"受信签发方 {data.code} 或 {data.issuer} 已登记")
    at = now()
    row = TrustedIssuer(
        code=data.code,
        name=data.name,
        issuer=data.issuer,
        client_id=data.client_id,
        client_secret_encrypted=_seal(rt, data.code, data.client_secret),
        mapping=_rules_json(data.mapping),
        created_at=at,
        updated_at=at,
        updated_by=actor.name,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same issuer
        raise Conflict(f"受信签发方 {data.code} 已登记") from exc
    await audit.record(
        session,
        actor,
        "federation.issuer_created",
        data.code,
        {"issuer": data.issuer, "client_id": data.client_id, "mapping": row.mapping},
    )
    return row


async def update_issuer(
    session: AsyncSession, rt: IdentityRuntime, code: str, data: TrustedIssuerPatch, actor: Actor
) -> TrustedIssuer:
    row = await issuer_by_code(session, code)
    changes: dict[str, object] = {}
    if data.name is not None and data.name != row.name:
        changes["name"] = [row.name, data.name]
        row.name = data.name
    if data.client_id is not None and data.client_id != row.client_id:
        changes["client_id"] = [row.client_id, data.client_id]
        row.client_id = data.client_id
    if data.client_secret is not None:
        row.client_secret_encrypted = _seal(rt, code, data.client_secret)
        changes["client_secret"] = "replaced"
    if data.mapping is not None:
        mapping = _rules_json(data.mapping)
        if mapping != row.mapping:
            # Both sides in the log: what a role meant before and after is auditable.
            changes["mapping"] = {"before": row.mapping, "after": mapping}
            row.mapping = mapping
    if data.status is not None and data.status != row.status:
        changes["status"] = [row.status, data.status]
        row.status = data.status
    if changes:
        row.updated_at = now()
        row.updated_by = actor.name
        await audit.record(session, actor, "federation.issuer_updated", code, changes)
    return row


# -- what the claims of one sign-in map to ---------------------------------------------------


def source_bindings(info: dict[str, object]) -> list[SourceBinding]:
    """The issuer's role bindings: our own software's [{role, site}] or a plain list of names."""
    raw = info.get("roles")
    items = raw if isinstance(raw, list) else []
    out: list[SourceBinding] = []
    for item in items:
        if isinstance(item, str) and item:
            out.append(SourceBinding(role=item[:64], site=None))
        elif isinstance(item, dict) and isinstance(item.get("role"), str):
            site = item.get("site")
            out.append(SourceBinding(role=str(item["role"])[:64], site=str(site)[:64] if site else None))
    return list({(b.role, b.site): b for b in out}.values())


def _matches(rule: ClaimRule, claim: SourceBinding) -> bool:
    return rule.source_role == claim.role and (rule.source_site == "*" or rule.source_site == claim.site)


def evaluate(
    rules: list[ClaimRule], claims: list[SourceBinding]
) -> tuple[list[ClaimOutcome], list[SourceBinding], list[LocalBinding]]:
    mapped: list[ClaimOutcome] = []
    unmapped: list[SourceBinding] = []
    granted: dict[tuple[str, str | None], LocalBinding] = {}
    for claim in claims:
        targets = [LocalBinding(role=Role(r.role), site=r.site) for r in rules if _matches(r, claim)]
        if targets:
            mapped.append(ClaimOutcome(claim=claim, mapped_to=targets))
            granted.update({(t.role.value, t.site): t for t in targets})
        else:
            unmapped.append(claim)
    return mapped, unmapped, list(granted.values())


def unused_claims(*claim_sets: dict[str, object]) -> list[str]:
    names = {k for claims in claim_sets for k in claims}
    return sorted(names - _USED_CLAIMS - _PROTOCOL_CLAIMS)


async def signins(
    session: AsyncSession, code: str, offset: int, limit: int, unmapped_only: bool = False
) -> tuple[list[FederatedSignInOut], int]:
    issuer = await issuer_by_code(session, code)
    stmt = select(FederatedSignIn).where(col(FederatedSignIn.issuer_id) == issuer.id)
    if unmapped_only:
        stmt = stmt.where(col(FederatedSignIn.unmapped_count) > 0)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (await session.execute(stmt.order_by(col(FederatedSignIn.id).desc()).offset(offset).limit(limit)))
        .scalars()
        .all()
    )
    out: list[FederatedSignInOut] = []
    for row in rows:
        user = await session.get(User, row.user_id)
        out.append(
            FederatedSignInOut.model_validate(
                {
                    **row.report,
                    "id": row.id or 0,
                    "issuer": code,
                    "subject": row.subject,
                    "username": user.username if user else "",
                    "at": clock.from_epoch(row.at),
                }
            )
        )
    return out, int(total)
