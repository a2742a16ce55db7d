"""Dead subscription deliveries of a site, for its staff: list them and send one again."""

from __future__ import annotations

from fastapi import APIRouter

from services.interaction.schemas.deliveries import DeadDeliveryOut, DeadDeliveryPage
from services.interaction.service import dead_letters
from services.interaction.service.access import can_handle
from services.kernel.deps import PageDep, PrincipalDep, RequiredSiteDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, Unauthorized, problem_responses
from services.kernel.params import IdPath

router = APIRouter(tags=["subscriptions"])
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, Conflict)


def _staff(principal: PrincipalDep, site: str) -> None:
    if not can_handle(principal, site):
        raise Forbidden("需要本站工作人员权限")


@router.get(
    "/subscription-deliveries/dead",
    response_model=DeadDeliveryPage,
    summary="订阅投递的死信（本站工作人员）",
    responses=ERRORS,
)
async def dead(
    site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> DeadDeliveryPage:
    _staff(principal, site)
    return await dead_letters.list_dead(session, site, page)


@router.post(
    "/subscription-deliveries/{delivery_id}/retry",
    response_model=DeadDeliveryOut,
    summary="重新投递一条死信",
    responses=ERRORS,
)
async def retry(
    delivery_id: IdPath, site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> DeadDeliveryOut:
    _staff(principal, site)
    return await dead_letters.retry(session, site, delivery_id)
