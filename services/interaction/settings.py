"""Settings of the interaction service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from services.kernel.settings import ServiceSettings


class InteractionSettings(ServiceSettings):
    service_name: str = "interaction"
    # Anonymous letters per client network (an IPv6 /64 or one IPv4 address): a burst, then a rate.
    interaction_anonymous_burst: int = 5
    interaction_anonymous_per_hour: float = 10.0
    # How often the deadline worker looks for reminders and overdue letters.
    interaction_sweep_seconds: float = 60.0
