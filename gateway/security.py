"""Response hardening and CORS: a site's own domains may call its APIs from a browser."""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.tenancy import SiteEntry, SiteRegistry, normalise_host

HSTS = b"max-age=31536000; includeSubDomains"
ALLOWED_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = frozenset(
    {
        "authorization",
        "content-type",
        "if-none-match",
        "if-match",
        "x-request-id",
        "accept",
        "accept-language",
        # EventSource sends it on reconnect to a live stream; it is not CORS-safelisted.
        "last-event-id",
    }
)
EXPOSED_HEADERS = b"ETag, Retry-After, X-Request-ID, Location"
PREFLIGHT_MAX_AGE = b"600"

_BASE_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


def harden(headers: list[tuple[bytes, bytes]], https: bool) -> None:
    """Add the platform's security headers unless the service chose its own."""
    present = {k for k, _ in headers}
    for key, value in _BASE_HEADERS:
        if key not in present:
            headers.append((key, value))
    # A service that sets a CSP decides framing itself (frame-ancestors).
    if b"x-frame-options" not in present and b"content-security-policy" not in present:
        headers.append((b"x-frame-options", b"DENY"))
    if https and b"strict-transport-security" not in present:
        headers.append((b"strict-transport-security", HSTS))


class CorsPolicy:
    def __init__(self, sites: SiteRegistry, extra_origins: list[str]) -> None:
        self.sites = sites
        self.extra = {o.rstrip("/").lower() for o in extra_origins}
        self._hosts: dict[bytes, str | None] = {}

    def _origin_host(self, origin: bytes) -> str | None:
        hit = self._hosts.get(origin, "")
        if hit != "":
            return hit
        try:
            parts = urlsplit(origin.decode("latin-1"))
            host = normalise_host(parts.hostname or "") if parts.scheme in ("http", "https") else None
        except ValueError:
            host = None
        if len(self._hosts) > 10_000:
            self._hosts.clear()
        self._hosts[origin] = host or None
        return host or None

    def allows(self, origin: bytes, site: SiteEntry | None) -> bool:
        """A site's APIs serve its own domains; platform APIs serve every hosted site."""
        if origin.decode("latin-1").rstrip("/").lower() in self.extra:
            return True
        host = self._origin_host(origin)
        if host is None:
            return False
        if site is not None:
            return host in site.domains
        return host in self.sites.by_host

    def preflight_headers(self, origin: bytes, requested: bytes) -> list[tuple[bytes, bytes]] | None:
        """Headers of an accepted preflight, or None when it asks for a header we refuse."""
        asked = [h.strip().lower() for h in requested.decode("latin-1").split(",") if h.strip()]
        if any(h not in ALLOWED_HEADERS for h in asked):
            return None
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-allow-headers", ", ".join(asked).encode() if asked else b"content-type"),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            (b"vary", b"Origin"),
        ]

    @staticmethod
    def actual_headers(origin: bytes) -> list[tuple[bytes, bytes]]:
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
            (b"vary", b"Origin"),
        ]
