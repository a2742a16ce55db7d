"""Routers of the identity service: thin, the rules live in services.identity.service."""

from __future__ import annotations

from services.identity.api import accounts, federation, oauth, security, signin, wellknown

routers = [oauth.router, signin.router, accounts.router, security.router, federation.router]
root_routers = [wellknown.router]
