"""List pages of 10,000 published comments and 10,000 survey answers, walked end to end.

.venv/bin/python -m bench interaction_lists [--quick]

Rows are seeded directly into a migrated data folder (embedded SQLite), beside as many rows of a
second consultation and survey so that the index, not the table's size, decides. Every page is
one request to the interaction app in-process over ASGI (routing, validation, the query,
serialisation), keyset-paged with `after=`; the p95 is over every page of the walk.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench.common import Row, latency_row, print_table
from gateway import migrate
from services.interaction.app import create_app
from services.interaction.models import Consultation, ConsultationComment, Survey, SurveyAnswer
from services.interaction.settings import InteractionSettings
from services.kernel.auth import Principal
from services.kernel.clock import epoch
from services.kernel.db import Database
from services.kernel.edge import TENANT_HEADER

SITE = "jtj"
PAGE = 20
COMMAND = ".venv/bin/python -m bench interaction_lists"
QUESTIONS = [
    {
        "id": "q1",
        "kind": "single",
        "text": "出行方式",
        "options": ["公交", "地铁", "出租车"],
        "required": True,
    },
    {"id": "q2", "kind": "scale", "text": "满意度", "scale_max": 5, "required": True},
    {"id": "q3", "kind": "text", "text": "建议", "required": False},
]


class _Staff:
    """Stands in for the token verifier: every caller is the platform's internal client."""

    async def verify(self, token: str) -> Principal:
        return Principal(sub="bench", kind="client", scopes=frozenset({"internal"}))


async def _seed(db: Database, n: int) -> tuple[int, int]:
    now = epoch()
    async with db.session() as session:
        ids = []
        for i in range(2):
            c = Consultation(
                site=SITE,
                title=f"征集{i}",
                paragraphs=[{"anchor": f"art-{k}", "text": f"第{k}条"} for k in range(1, 11)],
                status="closed",
                starts_at=now - 86400,
                ends_at=now - 1,
                created_by="bench",
                created_at=now,
            )
            s = Survey(
                site=SITE,
                title=f"调查{i}",
                questions=QUESTIONS,
                status="closed",
                starts_at=now - 86400,
                ends_at=now - 1,
                created_by="bench",
                created_at=now,
            )
            session.add_all([c, s])
            await session.flush()
            ids.append((c.id, s.id))
        # Interleaved, as real traffic would write them: the wanted rows are every other one.
        comments, answers = [], []
        for i in range(n):
            for cid, sid in ids:
                comments.append(
                    {
                        "consultation_id": cid,
                        "site": SITE,
                        "anchor": f"art-{1 + i % 10}",
                        "body": f"关于第{1 + i % 10}条的意见第{i}号：建议进一步明确适用范围和责任主体。",
                        "public_body": f"关于第{1 + i % 10}条的意见第{i}号：建议进一步明确适用范围和责任主体。",
                        "author_sub": f"user{i}",
                        "status": "approved",
                        "findings": [],
                        "redactions": [],
                        "submitted_at": now,
                        "published_at": now,
                        "moderation_note": "",
                    }
                )
                answers.append(
                    {
                        "survey_id": sid,
                        "respondent_key": f"{sid}-{i:060d}",
                        "answers": {"q1": i % 3, "q2": 1 + i % 5, "q3": f"建议{i}"},
                        "submitted_at": now,
                        "updated_at": now,
                        "revisions": 1,
                    }
                )
        for chunk in range(0, len(comments), 5000):
            await session.execute(insert(ConsultationComment), comments[chunk : chunk + 5000])
            await session.execute(insert(SurveyAnswer), answers[chunk : chunk + 5000])
    cid, sid = ids[0]
    assert cid is not None and sid is not None
    return cid, sid


async def _walk(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[list[float], int]:
    seconds: list[float] = []
    after, items = 0, 0
    while True:
        began = time.perf_counter()
        resp = await client.get(url, params={"after": after, "size": PAGE}, headers=headers)
        seconds.append(time.perf_counter() - began)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        items += len(page["items"])
        if page["next_after"] is None:
            return seconds, items
        after = page["next_after"]


async def _run(n: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        await migrate.migrate(["interaction"], data_dir=data)
        settings = InteractionSettings(data_dir=data)
        db = Database(settings.service_database_url("interaction"), settings.database_schema("interaction"))
        began = time.perf_counter()
        cid, sid = await _seed(db, n)
        seed_s = time.perf_counter() - began
        await db.dispose()
        app = create_app(settings, run_workers=False)
        app.state.ctx.verifier = _Staff()
        rows: list[Row] = []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                public = {TENANT_HEADER: SITE}
                staff = {TENANT_HEADER: SITE, "Authorization": "Bearer bench"}
                walks = [
                    (
                        "published comments",
                        f"/api/interaction/v1/public/consultations/{cid}/comments",
                        public,
                    ),
                    ("survey answers", f"/api/interaction/v1/surveys/{sid}/answers", staff),
                ]
                for what, url, headers in walks:
                    await _walk(client, url, headers)  # warm-up walk
                    cpu = time.process_time()
                    seconds, items = await _walk(client, url, headers)
                    cpu_ms = (time.process_time() - cpu) * 1000 / len(seconds)
                    p95 = sorted(seconds)[int(0.95 * (len(seconds) - 1))] * 1000
                    rows.append(
                        latency_row(
                            f"interaction: page of {what} ({PAGE}/page, keyset)",
                            seconds,
                            target="p95 < 50 ms",
                            met=p95 < 50,
                            note=(
                                f"{items} items walked in {len(seconds)} pages, {cpu_ms:.2f} CPU-ms per page "
                                f"(process CPU time: client, app and SQLite together); table holds {2 * n} rows "
                                f"(two consultations/surveys), seeded in {seed_s:.1f} s; "
                                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
                            ),
                            command=COMMAND,
                        )
                    )
    return rows


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(_run(2_000 if quick else 10_000))


if __name__ == "__main__":
    print_table(run("--quick" in sys.argv))
