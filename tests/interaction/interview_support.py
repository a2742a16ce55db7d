"""What the interview tests share: staff accounts as identity would answer, people, SSE parsing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from services.interaction.service.staff import StaffAccount
from services.kernel import clock
from tests.support.tokens import TestIssuer

SITE = "jtj"
HOST, GUEST, GUEST_2, CITIZEN_ID = 100, 101, 102, 103
STAFF = {
    HOST: StaffAccount(HOST, "刘主持", True, (("editor", SITE),)),
    GUEST: StaffAccount(GUEST, "张局长", True, (("site_admin", SITE),)),
    GUEST_2: StaffAccount(GUEST_2, "李处长", True, (("reviewer", None),)),
    CITIZEN_ID: StaffAccount(CITIZEN_ID, "王小明", True, (("citizen", None),)),
}


async def fake_staff(user_id: int) -> StaffAccount | None:
    return STAFF.get(user_id)


INTERVIEW_COLUMN = 31
COLUMNS = {
    SITE: [
        {"id": 30, "name": "通知公告", "code": "tzgg"},
        {"id": INTERVIEW_COLUMN, "name": "在线访谈", "code": ""},
    ]
}


async def fake_columns(site: str) -> list[dict[str, Any]]:
    """Content's column list of a site, as the transcript's column check reads it."""
    return COLUMNS.get(site, [])


class People:
    def __init__(self, issuer: TestIssuer, site_header: bool = True) -> None:
        site = SITE if site_header else None
        self.editor = issuer.headers("ed1", [("editor", SITE)], site=site, name="编辑")
        self.host = issuer.headers(str(HOST), [("editor", SITE)], site=site, name="刘主持")
        self.guest = issuer.headers(str(GUEST), [("site_admin", SITE)], site=site, name="张局长")
        self.guest_2 = issuer.headers(str(GUEST_2), [("reviewer", None)], site=site, name="李处长")
        self.citizen = issuer.headers("c1", [("citizen", None)], site=site, name="王小明")
        self.citizen_2 = issuer.headers("c2", [("citizen", None)], site=site, name="李四")
        self.outsider = issuer.headers("h9", [("editor", "wjw")], site=site)
        self.admin = issuer.headers("root", [("platform_admin", None)])
        self.anonymous = {"X-Jiyue-Site": SITE} if site_header else {}


def interview_body(**overrides: Any) -> dict[str, Any]:
    start = clock.now() + timedelta(hours=1)
    body: dict[str, Any] = {
        "title": "聚焦城市公交线网优化",
        "summary": "市交通运输局负责同志在线答问",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "host": {"user_id": HOST, "title": "主持人"},
        "guests": [
            {"user_id": GUEST, "title": "市交通运输局局长"},
            {"user_id": GUEST_2, "title": "运输处处长"},
        ],
    }
    body.update(overrides)
    return body


def parse_sse(text: str) -> list[dict[str, Any]]:
    """Events of an SSE body: {"id", "event", "data"}; comments and retry-only blocks skipped."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        if "data" in fields:
            events.append(
                {
                    "id": int(fields["id"]),
                    "event": fields.get("event", "message"),
                    "data": json.loads(fields["data"]),
                }
            )
    return events
