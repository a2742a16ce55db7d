"""Routers of the interaction service: thin, the rules live in the service package."""

from services.interaction.api.calendar import router as calendar_router
from services.interaction.api.consultations import router as consultations_router
from services.interaction.api.deliveries import router as deliveries_router
from services.interaction.api.interview_public import router as interview_public_router
from services.interaction.api.interviews import router as interviews_router
from services.interaction.api.letters import router as letters_router
from services.interaction.api.mailboxes import router as mailboxes_router
from services.interaction.api.participation import router as participation_router
from services.interaction.api.public import router as public_router
from services.interaction.api.ratings import router as ratings_router
from services.interaction.api.reports import router as reports_router
from services.interaction.api.subscriptions import router as subscriptions_router
from services.interaction.api.surveys import router as surveys_router
from services.interaction.api.templates import router as templates_router

routers = [
    calendar_router,
    mailboxes_router,
    letters_router,
    public_router,
    reports_router,
    ratings_router,
    interviews_router,
    interview_public_router,
    consultations_router,
    surveys_router,
    subscriptions_router,
    templates_router,
    deliveries_router,
    participation_router,
]

__all__ = ["routers"]
