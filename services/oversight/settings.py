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
    # Key of the dashboard's signed session cookies; empty: a secret kept in the data folder.
    # Replicas of a split deployment must share it (set JIYUE_DASHBOARD_SESSION_SECRET).
    dashboard_session_secret: str = ""
