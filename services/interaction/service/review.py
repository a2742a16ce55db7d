"""Machine review of a letter before any person sees it: the resources service's checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from services.kernel.client import ServiceDirectory
from services.kernel.errors import ServiceUnavailable

# What review answers: (blocking, findings); privacy findings never block a letter, because
# a writer giving their own phone number is the normal case, but they are kept for redaction.
Review = Callable[[str], Awaitable[tuple[bool, list[dict[str, Any]]]]]


def resources_review(directory: ServiceDirectory) -> Review:
    async def review(text: str) -> tuple[bool, list[dict[str, Any]]]:
        try:
            resp = await directory.client("resources").post("/api/resources/v1/checks", json={"text": text})
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("机器审查暂不可用，来信未保存，请稍后再试") from exc
        if resp.status_code != 200:
            raise ServiceUnavailable(f"机器审查暂不可用（resources 返回 {resp.status_code}），来信未保存")
        findings: list[dict[str, Any]] = resp.json().get("findings", [])
        blocking = any(f.get("severity") == "block" and f.get("kind") != "privacy" for f in findings)
        return blocking, findings

    return review
