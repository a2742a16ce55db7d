"""Warnings to the responsible people by e-mail.

Who: the site's administrators (role bindings asked of identity over its API) and the editors
responsible for the columns in the evidence. Each raised level is told once, and the
resolution once; the alert itself is raised only when an indicator reaches a new level (see
scorecards.raise_alerts), so a worsening warning is told again as a veto.

Content's signed webhook push is a site's channel to its public new-media accounts (article
42): an internal warning does not belong there, so e-mail is the channel for people.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from services.kernel.mail import Mail
from services.oversight.vocab import Indicator, Level

IDENTITY_USERS = "/api/identity/v1/users"
_NAMES = {
    Indicator.HOMEPAGE_STALE: "首页更新",
    Indicator.STALE_COLUMNS: "栏目更新",
    Indicator.LONG_STALE_COLUMNS: "栏目长期未更新",
    Indicator.BLANK_COLUMNS: "空白栏目",
    Indicator.UNAVAILABLE: "网站可用性",
    Indicator.UNANSWERED_MESSAGES: "留言答复",
    Indicator.BROKEN_LINKS: "错链与附件",
    Indicator.SECURITY_INCIDENT_UNHANDLED: "安全事件处置",
}
_LEVELS = {Level.WARNING: "预警", Level.VETO: "单项否决", Level.OK: "已恢复"}


@dataclass(frozen=True)
class Person:
    username: str
    email: str


async def responsible(identity: httpx.AsyncClient, site: str, editors: list[str]) -> list[Person]:
    """Active accounts with an address that administer the site or are a named column editor."""
    people: dict[str, Person] = {}
    page = 1
    while True:
        resp = await identity.get(IDENTITY_USERS, params={"page": page, "size": 100})
        resp.raise_for_status()
        data = resp.json()
        for user in data["items"]:
            if user.get("status") != "active" or not user.get("email"):
                continue
            admin = any(r["role"] == "site_admin" and r["site"] == site for r in user["roles"])
            if admin or user["username"] in editors:
                people[user["username"]] = Person(user["username"], user["email"])
        if page * 100 >= int(data["total"]):
            return sorted(people.values(), key=lambda p: p.username)
        page += 1


def compose(payload: dict[str, object], site_name: str, resolved: bool, to: list[Person]) -> Mail:
    indicator = Indicator(str(payload["indicator"]))
    level = Level.OK if resolved else Level(str(payload["level"]))
    what = _NAMES[indicator]
    subject = f"【{_LEVELS[level]}】{site_name}：{what}"
    if resolved:
        text = f"{site_name}的“{what}”问题已消除，提醒关闭。"
    else:
        evidence = str(payload.get("evidence") or "")
        text = (
            f"{site_name}的“{what}”指标达到{_LEVELS[level]}线（当前值 {payload.get('value')}）。\n"
            f"依据：{evidence}\n\n请在检查前处理。本邮件由集约化平台运维监控自动发送。"
        )
    return Mail(tuple(p.email for p in to), subject, text)
