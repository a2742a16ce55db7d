"""Availability, unanswered messages and broken links on a demo site moved through time (no
sleeping): exactly the vetoes the rules name, with evidence, each warned first and mailed once;
then the site's annual report against counts taken from the services' own databases."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from services.content.models import Publication
from services.interaction.models import (
    Consultation,
    ConsultationComment,
    Interview,
    InterviewEntry,
    InterviewQuestion,
    Letter,
    Survey,
    SurveyAnswer,
)
from services.kernel import clock
from services.kernel.outbound import OutboundClient, OutboundPolicy, parse_allow
from services.oversight.flows import january_drafts
from services.oversight.models import DailyViews, ReportEntryChange, feed_tables
from services.oversight.service.availability import probe_all
from services.oversight.service.freshness import DEFAULT_FRESHNESS
from services.oversight.state import OversightState
from services.oversight.workers import LinkRecheck, evaluate_all
from tests.identity.helpers import FAST_ARGON2, bearer, make_user, user_token
from tests.oversight.helpers import CONTENT, eventually, make_site, publish
from tests.support.platform import Platform
from tests.support.smtp import Inbox, smtp_server

SITE = "jyj"
LETTERS = "/sites/jyj/api/interaction/v1"
ADMIN_MAIL = "admin@jyj.example"
BODY = (
    '<p>附：<a href="https://ok.example/guide">办事指南</a>，'
    '<a href="https://gone.example/old.pdf">旧版文件</a>，'
    '<a href="/sites/jyj/api/content/v1/items/987654">已删除的信息</a>，'
    '<a href="/api/content/v1/site">本站首页</a>。</p>'
)


class FlakyGateway(httpx.ASGITransport):
    """The gateway as the probe reaches it; `down` makes the next probes fail to connect."""

    down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        return await super().handle_async_request(request)


GONE = {"/old.pdf"}


def _outside(request: httpx.Request) -> httpx.Response:
    # An unread stream, as a real server's answer is (the guarded client streams the body).
    return httpx.Response(404 if request.url.path in GONE else 200, stream=httpx.ByteStream(b""))


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key, value)
    for inbox, settings in smtp_server():
        monkeypatch.setenv("JIYUE_SMTP_HOST", settings.host)
        monkeypatch.setenv("JIYUE_SMTP_PORT", str(settings.port))
        monkeypatch.setenv("JIYUE_SMTP_FROM", settings.sender)
        yield inbox
    clock.reset()


def _levels(card: dict[str, Any]) -> dict[str, str]:
    return {i["indicator"]: i["level"] for i in card["indicators"]}


async def test_probes_messages_and_links_warn_then_veto_and_the_report_counts(
    tmp_path: Path, smtp: Inbox
) -> None:
    # Start on the next 1 December (forward only: tokens are checked against the real time), so
    # the report's year and the January that drafts it follow from the timeline, not from today.
    year = clock.today().year
    start = datetime(year, 12, 1, 10, tzinfo=clock.SHANGHAI)
    if start < clock.now():
        year += 1
        start = start.replace(year=year)
    clock.shift(start - clock.now())
    async with Platform.start(tmp_path) as platform:
        c = platform.client
        gw = platform.gateway
        content = gw.directory.client("content")
        oversight = gw.local_apps["oversight"].state.ctx
        state = oversight.state_of(OversightState)
        state.outbound = OutboundClient(
            OutboundPolicy(), inner=httpx.MockTransport(_outside), resolver=_public
        )
        columns = await make_site(content, SITE, "示范市教育局", ["通知公告", "专题专栏：双减", "政策解读"])

        admin_token = await gw.directory.auth.token()
        people: dict[str, dict[str, str]] = {}
        uids: dict[str, int] = {}
        for name, role in (
            ("jyj_editor", "editor"),
            ("jyj_reviewer", "reviewer"),
            ("jyj_admin", "site_admin"),
        ):
            uid, password = await make_user(c, admin_token, name, [(role, SITE)])
            uids[role] = uid
            if role == "site_admin":
                patched = await c.patch(
                    f"/api/identity/v1/users/{uid}", json={"email": ADMIN_MAIL}, headers=bearer(admin_token)
                )
                assert patched.status_code == 200 and patched.json()["email"] == ADMIN_MAIL, patched.text
            people[role] = bearer(await user_token(c, name, password))
        _, citizen_password = await make_user(c, admin_token, "jyj_citizen", [])
        await eventually(lambda: c.get(f"/sites/{SITE}/api/content/v1/site"), lambda r: r.status_code == 200)
        linked = await publish(c, SITE, people, columns["通知公告"], "关于招生工作的通知", BODY)
        await publish(c, SITE, people, columns["专题专栏：双减"], "双减工作进展")
        await publish(c, SITE, people, columns["政策解读"], "《招生办法》解读")

        # Three 政务咨询 letters: one left waiting, one refused, one answered two days later.
        mailbox = {"name": "局长信箱", "allow_anonymous": True, "departments": {"bgs": "办公室"}}
        assert (
            await c.put(f"{LETTERS}/mailbox", json=mailbox, headers=people["site_admin"])
        ).status_code == 200
        letter_ids = []
        for i in range(3):
            letter = {
                "kind": "consultation",
                "recipient": "leader",
                "title": f"招生咨询{i}",
                "body": f"请问今年的招生政策第{i}条如何理解？",
                "anonymous": True,
                "publish_consent": True,
            }
            sent = await c.post(f"{LETTERS}/letters", json=letter)
            assert sent.status_code == 201, sent.text
            letter_ids.append(sent.json()["id"])
        waiting, refused, answered = letter_ids
        handler = people["editor"]
        done = await c.post(
            f"{LETTERS}/letters/{refused}/refuse", json={"reason": "duplicate", "note": ""}, headers=handler
        )
        assert done.status_code == 200, done.text
        for step, body in (("accept", {"complexity": "ordinary"}), ("assign", {"org": "bgs", "note": ""})):
            assert (
                await c.post(f"{LETTERS}/letters/{answered}/{step}", json=body, headers=handler)
            ).status_code == 200
        clock.shift(timedelta(days=2))
        for step, body in (("reply", {"text": "已答复：按招生办法第三条执行。"}), ("publish", {})):
            resp = await c.post(f"{LETTERS}/letters/{answered}/{step}", json=body, headers=handler)
            assert resp.status_code == 200, (step, resp.text)
        await _participation(c, people, uids, bearer(await user_token(c, "jyj_citizen", citizen_password)))
        views = 0
        for path in ("site", f"columns/{columns['通知公告']}/items", f"items/{linked}"):
            assert (await c.get(f"/sites/{SITE}/api/content/v1/{path}")).status_code == 200
            views += 1
        assert views == 3

        card_url = f"/api/oversight/v1/sites/{SITE}/scorecard"
        reader = people["site_admin"]

        def caught_up(r: httpx.Response) -> bool:
            levels = _levels(r.json())
            return levels.get("broken_links") == "warning" and levels.get("blank_columns") == "ok"

        card = (await eventually(lambda: c.get(card_url, headers=reader), caught_up)).json()
        broken = next(i for i in card["indicators"] if i["indicator"] == "broken_links")
        assert sorted(e["url"] for e in broken["evidence"]) == [
            "/sites/jyj/api/content/v1/items/987654",
            "https://gone.example/old.pdf",
        ]
        assert all(
            "关于招生工作的通知" in e["name"] and e["since"].endswith("+08:00") for e in broken["evidence"]
        )

        async def evaluate() -> int:
            return await evaluate_all(oversight.db, feed_tables)

        assert await evaluate() == 1  # broken links: a deduction, warned
        clock.shift(timedelta(days=9))  # day 11
        assert await evaluate() == 1  # homepage: warning
        clock.shift(timedelta(days=4))  # day 15
        assert await evaluate() == 1  # homepage: veto
        assert await evaluate() == 0

        clock.shift(timedelta(days=25))  # day 40: January — last year's report goes into review
        drafted = await january_drafts(oversight.db, state)
        assert len(drafted) == 1
        status = (await content.get(f"{CONTENT}/publications/{drafted[0]}")).json()["status"]
        assert status == "in_review"
        assert await january_drafts(oversight.db, state) == drafted  # once a year

        warn_days, veto_days = DEFAULT_FRESHNESS["unanswered"]
        clock.shift(timedelta(days=warn_days - 40))
        assert await evaluate() == 1  # the waiting letter: warning
        clock.shift(timedelta(days=83 - warn_days))
        gateway = FlakyGateway(app=platform.app)
        probe = OutboundClient(OutboundPolicy(allow=parse_allow("127.0.0.0/8")), inner=gateway)
        for n in range(140):  # 20 a day for a week; 5 fail → 3.6 %
            gateway.down = 100 <= n < 105
            assert [p.ok for p in await probe_all(oversight.db, probe, "http://127.0.0.1")] == [
                not gateway.down
            ]
            clock.shift(timedelta(minutes=72))
        assert await evaluate() == 1  # unavailable: warning
        gateway.down = True
        for _ in range(4):  # 9 of the week's 140 → 6.4 %
            await probe_all(oversight.db, probe, "http://127.0.0.1")
            clock.shift(timedelta(minutes=72))
        assert await evaluate() == 1  # unavailable: veto
        card = (await c.get(card_url, headers=reader)).json()
        for _ in range(40):  # on to the day the waiting letter passes three months
            if _levels(card)["unanswered_messages"] == "veto":
                break
            clock.shift(timedelta(hours=6))
            card = (await c.get(card_url, headers=reader)).json()
        assert await evaluate() == 1  # unanswered: veto

        vetoes = {i["indicator"]: i for i in card["indicators"] if i["level"] == "veto"}
        assert set(vetoes) == {"homepage_stale", "unavailable", "unanswered_messages"}, _levels(card)
        assert _levels(card)["broken_links"] == "warning" and card["passed"] is False
        unanswered = vetoes["unanswered_messages"]
        assert [e["name"] for e in unanswered["evidence"]] == [f"留言 #{waiting}"]
        assert unanswered["value"] >= veto_days
        failures = vetoes["unavailable"]["evidence"]
        assert len(failures) == 9 and {e["detail"] for e in failures} == {"无应答或超时"}

        alerts = (await c.get(f"/api/oversight/v1/sites/{SITE}/alerts", headers=reader)).json()["items"]
        assert [(a["indicator"], a["level"]) for a in alerts] == [
            ("broken_links", "warning"),
            ("homepage_stale", "warning"),
            ("homepage_stale", "veto"),
            ("unanswered_messages", "warning"),
            ("unavailable", "warning"),
            ("unavailable", "veto"),
            ("unanswered_messages", "veto"),
        ]
        mails = await eventually(lambda: _count(smtp), lambda n: n >= len(alerts), seconds=30)
        assert mails == len(alerts)  # once each, to the site administrator
        subjects = [m["Subject"] for m in smtp.to(ADMIN_MAIL)]
        assert sorted(subjects) == sorted(
            f"【{'预警' if a['level'] == 'warning' else '单项否决'}】示范市教育局：{name}"
            for a, name in zip(
                alerts,
                ["错链与附件", "首页更新", "首页更新", "留言答复", "网站可用性", "网站可用性", "留言答复"],
                strict=True,
            )
        )

        GONE.clear()  # the external file is back: the next round of re-checks forgets it
        assert await LinkRecheck(oversight.db, state.link_checker)() == 3  # the three live items
        card = (await c.get(card_url, headers=reader)).json()
        broken = next(i for i in card["indicators"] if i["indicator"] == "broken_links")
        assert [e["url"] for e in broken["evidence"]] == ["/sites/jyj/api/content/v1/items/987654"]

        await _annual_report(c, platform, people, year)


async def _participation(
    c: httpx.AsyncClient, people: dict[str, dict[str, str]], uids: dict[str, int], citizen: dict[str, str]
) -> None:
    """A consultation (one comment through, one spam blocked), a survey answered and closed, and an
    interview with one question approved and answered: the report's 征集调查/在线访谈 rows."""
    editor = people["editor"]
    now = clock.now()
    window = {
        "starts_at": clock.to_wire(now - timedelta(minutes=1)),
        "ends_at": clock.to_wire(now + timedelta(hours=1)),
    }
    body = {
        "title": "《招生办法（征求意见稿）》征求意见",
        "paragraphs": [{"anchor": "art-1", "text": "第一条 按学区招生。"}],
        "attachments": [],
        **window,
    }
    cid = (await c.post(f"{LETTERS}/consultations", json=body, headers=editor)).json()["id"]
    assert (await c.post(f"{LETTERS}/consultations/{cid}/open", headers=editor)).status_code == 200
    for text in ("建议公布学区划分依据。", "澳门新葡京 注册就送彩金 www.xpj7777.com"):
        sent = await c.post(
            f"{LETTERS}/consultations/{cid}/comments", json={"anchor": "art-1", "body": text}, headers=citizen
        )
        assert sent.status_code == 201, sent.text
    survey = {
        "title": "课后服务满意度调查",
        "questions": [{"id": "q1", "kind": "scale", "text": "满意度", "scale_max": 5}],
        **window,
    }
    sid = (await c.post(f"{LETTERS}/surveys", json=survey, headers=editor)).json()["id"]
    assert (await c.post(f"{LETTERS}/surveys/{sid}/open", headers=editor)).status_code == 200
    answered = await c.put(f"{LETTERS}/surveys/{sid}/answer", json={"answers": {"q1": 5}}, headers=citizen)
    assert answered.status_code == 200, answered.text
    assert (await c.post(f"{LETTERS}/surveys/{sid}/close", headers=editor)).status_code == 200
    interview = {
        "title": "聚焦双减政策落实",
        **window,
        "host": {"user_id": uids["editor"]},
        "guests": [{"user_id": uids["site_admin"], "title": "局长"}],
    }
    made = await c.post(f"{LETTERS}/interviews", json=interview, headers=editor)
    assert made.status_code == 201, made.text
    iid = made.json()["id"]
    asked = await c.post(
        f"{LETTERS}/interviews/{iid}/questions", json={"text": "课后服务几点结束？"}, headers=citizen
    )
    assert asked.status_code == 201, asked.text
    qid = asked.json()["id"]
    for step in ("start", f"questions/{qid}/approve"):
        assert (await c.post(f"{LETTERS}/interviews/{iid}/{step}", headers=editor)).status_code == 200, step
    reply = {"text": "一般到下午六点。", "question_id": qid}
    guest = people["site_admin"]
    assert (await c.post(f"{LETTERS}/interviews/{iid}/answers", json=reply, headers=guest)).status_code == 201
    assert (await c.post(f"{LETTERS}/interviews/{iid}/end", headers=editor)).status_code == 200


async def _participation_truth(platform: Platform, year: int) -> dict[str, int]:
    """The same rows counted here, row by row, from interaction's own tables."""
    first, last = (datetime(y, 1, 1, tzinfo=clock.SHANGHAI).timestamp() for y in (year, year + 1))

    def within(at: float | None) -> bool:
        return at is not None and first <= at < last

    async with platform.gateway.local_apps["interaction"].state.ctx.db.session() as session:

        def rows(model: Any) -> Any:
            return session.execute(select(model))

        consultations = [x for x in (await rows(Consultation)).scalars() if x.site == SITE]
        surveys = [x for x in (await rows(Survey)).scalars() if x.site == SITE]
        comments = [x for x in (await rows(ConsultationComment)).scalars() if x.site == SITE]
        answers = [x for x in (await rows(SurveyAnswer)).scalars() if x.survey_id in {s.id for s in surveys}]
        interviews = [x for x in (await rows(Interview)).scalars() if x.site == SITE]
        questions = [x for x in (await rows(InterviewQuestion)).scalars() if x.site == SITE]
        entries = [
            x for x in (await rows(InterviewEntry)).scalars() if x.interview_id in {i.id for i in interviews}
        ]
    return {
        "consultations.rounds": sum(within(x.opened_at) for x in [*consultations, *surveys]),
        "consultations.opinions": sum(within(x.submitted_at) and x.status != "blocked" for x in comments)
        + sum(within(a.submitted_at) for a in answers),
        "consultations.results": sum(within(x.feedback_published_at) for x in consultations)
        + sum(within(s.ends_at) and s.ends_at <= clock.now().timestamp() for s in surveys),
        "interviews.rounds": sum(within(i.started_at) for i in interviews),
        "interviews.questions": sum(within(q.submitted_at) and q.status != "screened_out" for q in questions),
        "interviews.answers": len(
            {e.question_id for e in entries if e.kind == "answer" and e.question_id and within(e.at)}
        ),
    }


async def _count(inbox: Inbox) -> int:
    return len(inbox.messages)


async def _annual_report(
    c: httpx.AsyncClient, platform: Platform, people: dict[str, dict[str, str]], year: int
) -> None:
    gw = platform.gateway
    url = f"/api/oversight/v1/sites/{SITE}/annual-reports/{year}"
    assert (await c.get(url, headers=people["editor"])).status_code == 403
    entered = await c.put(
        f"{url}/entries",
        json={"entries": [{"key": "security.checks", "value": 4}, {"key": "security.owner", "value": True}]},
        headers=people["site_admin"],
    )
    assert entered.status_code == 200, entered.text
    bad = await c.put(
        f"{url}/entries",
        json={"entries": [{"key": "visits.page_views", "value": 1}]},
        headers=people["site_admin"],
    )
    assert bad.status_code == 422
    report = (await c.get(url, headers=people["site_admin"])).json()
    rows = {r["key"]: r for s in report["sections"] for r in s["rows"]}

    async with gw.local_apps["content"].state.ctx.db.session() as session:
        published = (
            (
                await session.execute(
                    select(Publication).where(
                        col(Publication.site_id) == SITE, col(Publication.status) == "published"
                    )
                )
            )
            .scalars()
            .all()
        )
    in_year = [
        p
        for p in published
        if p.published_at and clock.aware(p.published_at).astimezone(clock.SHANGHAI).year == year
    ]
    async with gw.local_apps["interaction"].state.ctx.db.session() as session:
        letters = (await session.execute(select(Letter).where(col(Letter.site) == SITE))).scalars().all()
    valid = [x for x in letters if x.status != "screened_out"]
    closed = [x for x in valid if x.status in ("refused", "replied", "published")]
    expected = {
        "identity.name": "示范市教育局",
        "identity.id_code": "bm99010021",
        "published.total": len(in_year),
        "published.disclosure": 2,  # 通知公告 and 政策解读 (a 政策 column)
        "special.maintained": 1,
        "special.opened": 1,
        "interpretation.total": 1,
        "messages.received": len(valid),
        "messages.closed": len(closed),
        "messages.published": sum(1 for x in letters if x.status == "published"),
        "messages.average_days": 2.0,
        "security.checks": 4,
        "security.owner": True,
    }
    assert {k: rows[k]["value"] for k in expected} == expected
    assert rows["security.checks"]["source"] == "entered" and rows["security.drills"]["source"] == "missing"
    truth = await _participation_truth(platform, year)
    assert truth == {
        "consultations.rounds": 2,  # the consultation and the survey
        "consultations.opinions": 2,  # one comment (the spam was blocked) and one answer sheet
        "consultations.results": 1,  # the survey's results, at its close
        "interviews.rounds": 1,
        "interviews.questions": 1,
        "interviews.answers": 1,
    }
    assert {k: rows[k]["value"] for k in truth} == truth
    assert {rows[k]["source"] for k in truth} == {"computed"}
    assert rows["visits.page_views"]["value"] >= 3 and rows["visits.unique_visitors"]["value"] >= 1
    # The waits above make requests of their own, so the truth is what oversight recorded.
    async with gw.local_apps["oversight"].state.ctx.db.session() as session:
        recorded = (
            await session.execute(
                select(func.coalesce(func.sum(DailyViews.views), 0)).where(
                    col(DailyViews.site) == SITE,
                    col(DailyViews.day) >= date(year, 1, 1),
                    col(DailyViews.day) <= date(year, 12, 31),
                )
            )
        ).scalar_one()
    assert rows["visits.page_views"]["value"] == recorded
    assert report["draft_publication_id"] is not None
    async with gw.local_apps["oversight"].state.ctx.db.session() as session:
        audit = (await session.execute(select(ReportEntryChange))).scalars().all()
    assert sorted(a.key for a in audit) == ["security.checks", "security.owner"]

    xlsx = await c.get(f"{url}/xlsx", headers=people["site_admin"])
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    cells = {r[5]: r[2] for r in sheet.iter_rows(min_row=3, values_only=True) if r and len(r) > 5 and r[5]}
    for key, value in expected.items():
        shown = ("是" if value else "否") if isinstance(value, bool) else value
        assert cells[key] == shown, key
    assert cells["visits.page_views"] == rows["visits.page_views"]["value"]
    assert {k: cells[k] for k in truth} == truth
    page = await c.get(f"{url}/page", headers=people["site_admin"])
    assert page.status_code == 200 and page.text.count("<svg") == 2 and "独立用户访问总量" in page.text
