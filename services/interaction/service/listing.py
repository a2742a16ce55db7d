"""What site search may show of a consultation, survey or interview: its public face only.

The feed events stay references for every other consumer; an item the public pages serve also
carries `listing` (title, public text, dates, public URL). An event without it tells search to
drop the item (a draft, or anything withdrawn). Comments, questions, answers and people's
names are never part of it.
"""

from __future__ import annotations

from typing import Any

from services.interaction.models import Consultation, Interview, Survey
from services.interaction.schemas.consultations import ConsultationStatus
from services.interaction.schemas.interviews import InterviewStatus
from services.interaction.schemas.surveys import SurveyStatus
from services.kernel.clock import from_epoch, to_wire

PREFIX = "/api/interaction/v1/public"


def _wire(seconds: float | None) -> str | None:
    return to_wire(from_epoch(seconds)) if seconds is not None else None


def consultation_listing(c: Consultation) -> dict[str, Any] | None:
    if c.status in (ConsultationStatus.DRAFT, ConsultationStatus.WITHDRAWN) or c.opened_at is None:
        return None
    draft = "\n".join(str(p.get("text") or "") for p in c.paragraphs)
    return {
        "title": c.title,
        "text": "\n".join(t for t in (c.summary, draft) if t),
        "published_at": _wire(c.opened_at),
        "starts_at": _wire(c.starts_at),
        "ends_at": _wire(c.ends_at),
        "url": f"{PREFIX}/consultations/{c.id}",
    }


def survey_listing(s: Survey) -> dict[str, Any] | None:
    if s.status in (SurveyStatus.DRAFT, SurveyStatus.WITHDRAWN) or s.opened_at is None:
        return None
    return {
        "title": s.title,
        "text": s.description,
        "published_at": _wire(s.opened_at),
        "starts_at": _wire(s.starts_at),
        "ends_at": _wire(s.ends_at),
        "url": f"{PREFIX}/surveys/{s.id}",
    }


def interview_listing(i: Interview) -> dict[str, Any] | None:
    """Interviews are public from the moment they are scheduled (`get_interview`) until withdrawn."""
    if i.status == InterviewStatus.WITHDRAWN:
        return None
    return {
        "title": i.title,
        "text": i.summary,
        "published_at": _wire(i.created_at),
        "starts_at": _wire(i.starts_at),
        "ends_at": _wire(i.ends_at),
        "url": f"{PREFIX}/interviews/{i.id}",
    }
