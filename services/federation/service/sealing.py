"""Our credentials at peers are kept encrypted (Fernet), so a copy of the database alone does
not let anyone read a peer's feed in our name."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from services.federation.settings import FederationSettings
from services.kernel.runtime import read_or_create_secret


class Sealer:
    def __init__(self, settings: FederationSettings) -> None:
        secret = settings.federation_secret_key or read_or_create_secret(settings, "federation-key")
        # Any operator-chosen string becomes a 32-byte Fernet key.
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("sealed secret does not open with this key") from None
