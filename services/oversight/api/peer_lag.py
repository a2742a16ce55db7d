"""Peer-lag alerts: federation reports a followed peer late or caught up (internal); the system
administrator and platform-wide auditors read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Forbidden, Unauthorized, problem_responses
from services.oversight.peer_lag_schemas import (
    PeerLagAlertList,
    PeerLagAlertOut,
    PeerLagReport,
    PeerLagStateOut,
)
from services.oversight.service import peer_lag
from services.oversight.service.access import require_platform_reader

router = APIRouter(tags=["互联平台延迟告警"])
ERRORS = problem_responses(Unauthorized, Forbidden)
PeerCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


@router.put(
    "/peer-lag/{peer}",
    response_model=PeerLagStateOut,
    summary="互联服务报告某互联平台的订阅延迟（超时告警、追上后关闭；内部接口）",
    responses=ERRORS,
)
async def report_peer_lag(
    peer: PeerCode, body: PeerLagReport, session: SessionDep, principal: PrincipalDep
) -> PeerLagStateOut:
    if not principal.is_internal:
        raise Forbidden("仅限平台内部服务调用")
    alert = await peer_lag.report(session, peer, body)
    out = PeerLagAlertOut.model_validate(alert, from_attributes=True) if alert else None
    return PeerLagStateOut(peer=peer, alert=out)


@router.get(
    "/peer-lag-alerts",
    response_model=PeerLagAlertList,
    summary="互联平台订阅延迟告警（未关闭的在前）",
    responses=ERRORS,
)
async def list_peer_lag_alerts(
    session: SessionDep,
    principal: PrincipalDep,
    open_only: Annotated[bool, Query(alias="open", description="只看未关闭的")] = False,
) -> PeerLagAlertList:
    require_platform_reader(principal)
    rows = await peer_lag.alerts(session, open_only)
    rows.sort(key=lambda a: (a.resolved_at is not None, -(a.id or 0)))
    items = [PeerLagAlertOut.model_validate(a, from_attributes=True) for a in rows]
    return PeerLagAlertList(total=len(items), items=items)
