"""Feed metrics every service shares (the default prometheus registry; `/metrics` serves it)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

FEED_DEAD_LETTERED = Counter(
    "jiyue_feed_dead_lettered_total", "Feed events set aside after repeated failures", ["consumer"]
)
FEED_DEAD_LETTERS = Gauge("jiyue_feed_dead_letters", "Feed events waiting in the dead letters", ["consumer"])
FEED_REBUILDS = Counter(
    "jiyue_feed_rebuilds_total", "Consumer rebuilds from a snapshot (cursor behind retention)", ["consumer"]
)
FEED_PRUNED = Counter("jiyue_feed_pruned_total", "Outbox events pruned after retention", ["service"])
PURGED = Counter("jiyue_purged_rows_total", "Expired rows removed by periodic purges", ["job"])
