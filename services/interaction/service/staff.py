"""Who an interview's guests and host are: staff accounts of the site, as identity knows them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from services.kernel.client import ServiceDirectory
from services.kernel.errors import ServiceUnavailable
from services.kernel.roles import SITE_STAFF_ROLES, Role


@dataclass(frozen=True)
class StaffAccount:
    user_id: int
    name: str
    active: bool
    roles: tuple[tuple[str, str | None], ...]  # (role, site or None for platform-wide)

    def works_on(self, site: str) -> bool:
        wanted = {*SITE_STAFF_ROLES, Role.PLATFORM_ADMIN}
        return self.active and any(r in wanted and s in (None, site) for r, s in self.roles)


# None: no such account.
StaffLookup = Callable[[int], Awaitable[StaffAccount | None]]


def identity_staff(directory: ServiceDirectory) -> StaffLookup:
    async def lookup(user_id: int) -> StaffAccount | None:
        try:
            resp = await directory.client("identity").get(f"/api/identity/v1/users/{user_id}")
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("统一身份认证暂不可用，无法核实嘉宾与主持人") from exc
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ServiceUnavailable(f"统一身份认证暂不可用（identity 返回 {resp.status_code}）")
        data = resp.json()
        return StaffAccount(
            user_id=int(data["id"]),
            name=str(data.get("display_name") or data.get("username") or user_id),
            active=data.get("status") == "active",
            roles=tuple((str(b["role"]), b.get("site")) for b in data.get("roles", [])),
        )

    return lookup
