"""Settings of the oversight service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class OversightSettings(ServiceSettings):
    service_name: str = "oversight"
    # The service whose feed tells which columns exist and when each last published.
    oversight_source: str = "content"
    # Precision of the yearly unique-visitor sketches: 2**lg_k registers (lg_k=14 → ±0.8 %).
    oversight_hll_lg_k: int = 14
    # Largest batch of access events one ingest call may carry.
    oversight_ingest_max_batch: int = 5000
    # How often every online site is evaluated and its alerts raised or resolved.
    oversight_evaluate_seconds: float = 300.0
    # Where messages come from (letters); empty: the unanswered-message indicator has no source.
    oversight_interaction_source: str = "interaction"
    # Where machine review's tampering findings come from (stored items); empty: operator-recorded only.
    oversight_resources_source: str = "resources"
    # Availability: the gateway's own address the probe dials (default: the platform's public
    # URL), the operator's allow-list for it (the guard refuses loopback/private otherwise),
    # how often every online site is probed (3600 s: 24 a day, the rule needs ≥ 20) and the
    # deadline after which a probe counts as unreachable.
    oversight_probe_url: str = ""
    oversight_probe_allow: str = "127.0.0.0/8,::1/128"
    oversight_probe_seconds: float = 3600.0
    oversight_probe_deadline_seconds: float = 15.0
    oversight_probe_concurrency: int = 8
    # Link checks: deadline per request, requests at once, pause between two requests to one host.
    oversight_link_deadline_seconds: float = 10.0
    oversight_link_concurrency: int = 8
    oversight_link_host_interval_seconds: float = 1.0
    # How often live items' links are checked again (broken ones first), and how many a round.
    oversight_link_recheck_seconds: float = 3600.0
    oversight_link_recheck_batch: int = 200
    # Hosts that are the platform itself besides the sites' domains (comma separated).
    oversight_internal_hosts: str = ""
    # The annual report is drafted in January; the column it goes to on each site.
    oversight_report_column: str = "年度工作报表"
    oversight_report_seconds: float = 21600.0
    # Key of the dashboard's signed session cookies; empty: a secret kept in the data folder.
    # Replicas of a split deployment must share it (set JIYUE_DASHBOARD_SESSION_SECRET).
    dashboard_session_secret: str = ""
