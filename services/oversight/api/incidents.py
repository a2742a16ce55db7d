"""Security incidents of a site: thin routers over service.incidents."""

from __future__ import annotations

from fastapi import APIRouter, Query

from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem_responses
from services.oversight.models import SecurityIncident, WatchedSite
from services.oversight.schemas import IncidentHandleIn, IncidentIn, IncidentList, IncidentOut
from services.oversight.service import incidents
from services.oversight.service.access import require_incident_editor, require_site_reader

router = APIRouter(tags=["oversight"])


def _out(row: SecurityIncident) -> IncidentOut:
    return IncidentOut.model_validate(row, from_attributes=True)


@router.get(
    "/sites/{code}/incidents",
    response_model=IncidentList,
    summary="站点的安全事件（篡改、挂马、暗链、数据泄露等）及处置情况",
    responses=problem_responses(Forbidden),
)
async def list_incidents(
    code: str,
    principal: PrincipalDep,
    session: SessionDep,
    open_only: bool = Query(default=False, description="只列未处置的"),
) -> IncidentList:
    require_site_reader(principal, code)
    items = [_out(r) for r in await incidents.listing(session, code, open_only)]
    return IncidentList(total=len(items), items=items)


@router.post(
    "/sites/{code}/incidents",
    response_model=IncidentOut,
    status_code=201,
    summary="登记安全事件",
    responses=problem_responses(Forbidden, NotFound, ValidationFailed),
)
async def record_incident(
    code: str, body: IncidentIn, principal: PrincipalDep, session: SessionDep
) -> IncidentOut:
    require_incident_editor(principal, code)
    if await session.get(WatchedSite, code) is None:
        raise NotFound(f"站点 {code} 不存在")
    return _out(await incidents.record(session, code, principal, body))


@router.post(
    "/sites/{code}/incidents/{incident_id}/handle",
    response_model=IncidentOut,
    summary="登记安全事件的处置（时间、处置人、措施）",
    responses=problem_responses(Forbidden, NotFound, Conflict, ValidationFailed),
)
async def handle_incident(
    code: str, incident_id: int, body: IncidentHandleIn, principal: PrincipalDep, session: SessionDep
) -> IncidentOut:
    require_incident_editor(principal, code)
    return _out(await incidents.handle(session, code, incident_id, principal, body))
