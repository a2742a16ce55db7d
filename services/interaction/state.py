"""What the interaction service keeps beside the kernel context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.interaction.service.delivery import Links
from services.interaction.service.interviews import InterviewRuntime
from services.interaction.service.pages import PageLookup
from services.interaction.service.review import Review
from services.interaction.service.subscriptions import CodeCheck, ColumnCheck, Signer
from services.interaction.service.throttle import Throttle
from services.kernel.deps import CtxDep
from services.kernel.mail import MailSender


@dataclass
class InteractionState:
    review: Review
    throttle: Throttle
    pages: PageLookup
    interviews: InterviewRuntime
    columns: ColumnCheck
    codes: CodeCheck
    signer: Signer
    mail: MailSender
    links: Links


def _state(ctx: CtxDep) -> InteractionState:
    return ctx.state_of(InteractionState)


StateDep = Annotated[InteractionState, Depends(_state)]
