"""Calls to peers on a hosted site's behalf: the tenant header, signed when the peer is remote."""

from __future__ import annotations

from services.kernel.client import ServiceDirectory
from services.kernel.edge import CLIENT_IP_HEADER, EDGE_HEADER, TENANT_HEADER, edge_key, sign_edge


def tenant_headers(
    directory: ServiceDirectory, secret: str, service: str, site: str, method: str, path: str
) -> dict[str, str]:
    headers = {TENANT_HEADER: site, CLIENT_IP_HEADER: ""}
    if not directory.is_local(service) and secret:
        # A service on its own socket believes a tenant only with the edge signature.
        headers[EDGE_HEADER] = sign_edge(edge_key(secret), method, path.encode(), site, "").decode()
    return headers
