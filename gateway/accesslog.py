"""The access log: one JSON object per request on logger `jiyue.access`.

The line is the message itself (not wrapped in another log format) so that a collector (or the
statistics of oversight) can parse it without knowing the platform's log settings.
"""

from __future__ import annotations

import logging
import sys

import orjson

from gateway.statistics import AccessEvents
from services.kernel import clock
from services.kernel.logs import request_id_var

access_log = logging.getLogger("jiyue.access")


def configure_access_log() -> None:
    """Give the access log its own plain handler once; a host application may replace it."""
    if access_log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = False


def write_access(
    *,
    request_id: str | None,
    client: str,
    method: str,
    path: str,
    status: int,
    ms: float,
    site: str | None,
    service: str | None,
    size: int,
) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    line = orjson.dumps(
        {
            "ts": clock.to_wire(clock.now()),
            "request_id": request_id,
            "client": client,
            "method": method,
            "path": path,
            "status": status,
            "ms": round(ms, 2),
            "site": site,
            "service": service,
            "bytes": size,
        }
    ).decode()
    access_log.info(line)


def record_access(
    outcome: Outcome,
    *,
    client: str,
    method: str,
    path: str,
    ms: float,
    log: bool,
    events: AccessEvents | None,
) -> None:
    """One served request, once: to oversight's visit statistics and to the access log."""
    if events is not None:
        events.add(client=client, method=method, path=path, status=outcome.status, site=outcome.site)
    if log:
        write_access(
            request_id=request_id_var.get(),
            client=client,
            method=method,
            path=path,
            status=outcome.status,
            ms=ms,
            site=outcome.site,
            service=outcome.service,
            size=outcome.size,
        )


class Outcome:
    """What one request came to, filled in as it passes through the gateway, then logged."""

    __slots__ = ("path", "service", "site", "size", "status")

    def __init__(self) -> None:
        self.status = 500
        self.size = 0
        self.site: str | None = None
        self.service: str | None = None
        self.path: str | None = None
