"""The audit log: every row chained to the previous one by SHA-256.

row.hash = sha256(prev_hash + canonical JSON of the row's own fields), so editing a row breaks
its own hash, deleting one breaks the next row's link, and deleting the tail breaks the head.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import AuditEntry, AuditHead
from services.identity.service.common import Actor
from services.kernel import clock

GENESIS = "0" * 64


def canonical(entry: AuditEntry) -> str:
    body = {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "address": entry.address,
        "detail": entry.detail,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


async def record(
    session: AsyncSession,
    actor: Actor | str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    who = actor if isinstance(actor, Actor) else Actor(actor)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE and reads outside a write transaction, so two sign-ins
        # could both read seq=n. A no-op write first takes the database's write lock (waiting
        # for any other writer), so the head we read next is the one we will replace.
        await session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(seq=AuditHead.seq))
    # Locking the head row serialises appenders on PostgreSQL.
    head = (
        (await session.execute(select(AuditHead).where(col(AuditHead.id) == 1).with_for_update()))
        .scalars()
        .first()
    )
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    entry = AuditEntry(
        seq=head.seq + 1,
        at=clock.now().isoformat(timespec="microseconds"),
        actor=who.name[:100],
        action=action,
        target=target[:200],
        address=who.address[:64],
        detail=detail or {},
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = chain_hash(head.hash, entry)
    head.seq = entry.seq
    head.hash = entry.hash
    session.add(entry)
    await session.flush()
    return entry


@dataclass
class ChainReport:
    ok: bool
    rows: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "first_broken_seq": self.first_broken_seq,
            "first_broken_id": self.first_broken_id,
            "reason": self.reason,
        }


async def verify_chain(session: AsyncSession, batch: int = 1000) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    rows = 0
    last_id = 0
    while True:
        stmt = (
            select(AuditEntry).where(col(AuditEntry.id) > last_id).order_by(col(AuditEntry.id)).limit(batch)
        )
        chunk = list((await session.execute(stmt)).scalars().all())
        if not chunk:
            break
        for entry in chunk:
            rows += 1
            last_id = entry.id or last_id
            reason = None
            if entry.seq != expected_seq:
                reason = f"序号不连续：应为 {expected_seq}，实为 {entry.seq}（前面的记录被删除）"
            elif entry.prev_hash != prev:
                reason = "与前一条记录的哈希链接不符（前一条被修改或删除）"
            elif chain_hash(prev, entry) != entry.hash:
                reason = "记录内容与其哈希不符（本条被修改）"
            if reason:
                return ChainReport(False, rows, entry.seq, entry.id, reason)
            prev = entry.hash
            expected_seq += 1
    head = (await session.execute(select(AuditHead).where(col(AuditHead.id) == 1))).scalars().first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return ChainReport(False, rows, expected_seq, None, "链尾记录缺失（最后的记录被删除）")
    return ChainReport(True, rows)


async def list_entries(
    session: AsyncSession, offset: int, limit: int, action: str | None = None, actor: str | None = None
) -> tuple[list[AuditEntry], int]:
    stmt = select(AuditEntry)
    if action:
        stmt = stmt.where(col(AuditEntry.action) == action)
    if actor:
        stmt = stmt.where(col(AuditEntry.actor) == actor)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (await session.execute(stmt.order_by(col(AuditEntry.seq).desc()).offset(offset).limit(limit)))
        .scalars()
        .all()
    )
    return list(rows), int(total)
