"""What the identity routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.identity.service.access import actor_name
from services.identity.service.common import Actor
from services.identity.service.runtime import IdentityRuntime
from services.kernel.auth import Principal
from services.kernel.deps import client_ip, get_ctx


def get_runtime(request: Request) -> IdentityRuntime:
    return get_ctx(request).state_of(IdentityRuntime)


RuntimeDep = Annotated[IdentityRuntime, Depends(get_runtime)]


def actor_of(principal: Principal, request: Request) -> Actor:
    return Actor(actor_name(principal), client_ip(request))
