"""`jiyue serve --host ::`: one listener for IPv4 and IPv6, each client seen as it is."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from gateway.app import create_gateway
from tests.gateway.fakes import ContentState, fake_content, fake_identity, settings
from tests.gateway.servers import ipv6_loopback, serving


@pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
async def test_dual_stack_logs_and_limits_ipv4_and_ipv6_clients(tmp_path, issuer) -> None:
    app = create_gateway(
        settings(tmp_path, gateway_rate_address_burst=3, gateway_rate_address_per_second=0.01), []
    )
    state = ContentState()
    state.add_site("jtj", ["jtj.example.gov.cn"])
    app.gateway.add_local("identity", fake_identity(issuer))
    app.gateway.add_local("content", fake_content(state))
    lines: list[dict[str, object]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(record.getMessage()))

    handler = Keep()
    logging.getLogger("jiyue.access").addHandler(handler)
    try:
        with serving(app, "::") as port:
            async with (
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as v4,
                httpx.AsyncClient(base_url=f"http://[::1]:{port}") as v6,
            ):
                path = "/api/content/v1/echo"
                v4_seen = (await v4.get(path)).json()
                v6_seen = (await v6.get(path)).json()
                assert v4_seen["headers"]["x-jiyue-client-ip"] == "127.0.0.1"
                assert v6_seen["headers"]["x-jiyue-client-ip"] == "::1"
                v4_statuses = [(await v4.get(path)).status_code for _ in range(3)]
                assert v4_statuses == [200, 200, 429]  # burst of 3, one already spent
                assert (await v6.get(path)).status_code == 200  # its own bucket
    finally:
        logging.getLogger("jiyue.access").removeHandler(handler)
    clients = {line["client"] for line in lines if line["path"] == "/api/content/v1/echo"}
    assert clients == {"127.0.0.1", "::1"}
