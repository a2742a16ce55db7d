"""Identity's typed state on the service context (`ctx.state_of(IdentityRuntime)`): what its
domain code needs besides a session — settings, the password hasher, the key material and the
client of trusted issuers."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.identity.service.federation_client import FederationClient
from services.identity.service.keys import KeyRing
from services.identity.service.passwords import PasswordService
from services.identity.settings import IdentitySettings


@dataclass
class IdentityRuntime:
    settings: IdentitySettings
    passwords: PasswordService = field(init=False)
    keys: KeyRing = field(init=False)
    federation: FederationClient = field(init=False)

    def __post_init__(self) -> None:
        self.passwords = PasswordService(self.settings)
        self.keys = KeyRing(self.settings)
        self.federation = FederationClient(self.settings)
