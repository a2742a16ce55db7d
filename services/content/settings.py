"""Settings of the content service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class ContentSettings(ServiceSettings):
    service_name: str = "content"
    # The portal that receives the content of a department site taken offline when the site
    # names no parent portal.
    content_portal_site: str = "sfs"
    # How long the offline notice stays on the portal (article 23: at least 30 days).
    content_offline_notice_days: int = 30
    # Delivery answers carry Cache-Control: public, max-age=this.
    content_delivery_max_age: int = 60
    # Entries kept in the in-process delivery cache before the oldest are dropped.
    content_delivery_cache_entries: int = 20_000
    # Re-publication deadline after the source goes live (article 42: 12 hours).
    content_syndication_hours: int = 12
    # Scheduler tick for scheduled publish / expiry / resume.
    content_scheduler_seconds: float = 5.0
    # Webhook retries: attempts and the first backoff (doubles each time); then a dead letter.
    content_push_max_attempts: int = 6
    content_push_backoff_seconds: float = 5.0
    # Deliveries in flight at once to one channel (a slow endpoint holds only its own slots).
    content_push_per_channel: int = 2
    # Re-publication tasks that fail: tries and the first backoff (doubles), then a dead letter.
    content_syndication_max_attempts: int = 8
    content_syndication_backoff_seconds: float = 30.0
    # One deadline for a whole webhook exchange (resolve, connect, send, read the answer).
    content_push_timeout_seconds: float = 10.0
    # Ranges (CIDR, comma separated) that tenant-aimed requests may reach although they are not
    # public, e.g. an intranet media gateway; env JIYUE_OUTBOUND_ALLOW. Empty: public only.
    outbound_allow: str = ""
