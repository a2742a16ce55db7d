"""The process's metrics at the service's root, for the operator's scraper: the subscription
queue's depth and age per lane (set by the sender, service/sending.py) among them. The
gateway's /metrics adds this process-wide registry only for services in its own process, so a
separately run interaction service would otherwise have no place where its queue is watched."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

root_router = APIRouter(include_in_schema=False)


@root_router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
