"""Dependencies the content routers share."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from services.content.service.common import Hub
from services.kernel.deps import get_ctx


def get_hub(request: Request) -> Hub:
    hub: Hub = get_ctx(request).extras["hub"]
    return hub


def resources_client(request: Request) -> httpx.AsyncClient:
    return get_ctx(request).directory.client("resources")


HubDep = Annotated[Hub, Depends(get_hub)]
ResourcesDep = Annotated[httpx.AsyncClient, Depends(resources_client)]
