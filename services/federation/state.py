"""The federation service's typed state: the guarded client for peers, the sealer, the followers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from services.federation.service.sealing import Sealer
from services.federation.settings import FederationSettings
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow


class FollowerView(Protocol):
    """What the status API reads of a running peer follower (workers.PeerFollower)."""

    head: int
    behind: int
    failed_polls: int
    last_error: str | None

    async def position(self) -> int: ...

    @property
    def lag_seconds(self) -> float: ...

    @property
    def late(self) -> bool: ...


@dataclass
class FederationState:
    settings: FederationSettings
    sealer: Sealer = field(init=False)
    outbound: OutboundClient = field(init=False)
    # The running follower of each peer we follow, by peer code (the status API reads them).
    followers: dict[str, FollowerView] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s = self.settings
        self.sealer = Sealer(s)
        # Peers are URLs an operator typed: the one guarded client, loopback/private only when
        # the operator allow-listed them.
        self.outbound = OutboundClient(
            OutboundPolicy(
                allow=parse_allow(s.federation_peer_allow),
                deadline_seconds=s.federation_peer_deadline_seconds,
                max_response_bytes=s.federation_peer_max_response_bytes,
            )
        )
