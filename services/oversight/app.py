"""The oversight service's app: inspection scorecards and visit statistics."""

from __future__ import annotations

from fastapi import FastAPI

from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.purge import periodic
from services.kernel.runtime import build_context, migrations_dir
from services.oversight.api.dashboard import router as dashboard_router
from services.oversight.api.incidents import router as incidents_router
from services.oversight.api.peer_lag import router as peer_lag_router
from services.oversight.api.reports import router as reports_router
from services.oversight.api.scorecards import router as scorecards_router
from services.oversight.api.statistics import router as statistics_router
from services.oversight.flows import january_drafts
from services.oversight.models import feed_tables, metadata
from services.oversight.service import incidents, messages
from services.oversight.service.availability import probe_all, prune_probes
from services.oversight.settings import OversightSettings
from services.oversight.state import OversightState
from services.oversight.workers import (
    GONE_TOPICS,
    LIVE_TOPICS,
    ContentFollower,
    InteractionFollower,
    LinkFollower,
    LinkRecheck,
    Notifier,
    ResourceFollower,
    evaluator,
    every,
)

NAME = "oversight"
TITLE = "oversight"
MIGRATIONS = migrations_dir(__file__)
settings_class = OversightSettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: OversightSettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or OversightSettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    source = settings.oversight_source
    ctx.consumers.append(
        ContentFollower(
            ctx.db,
            feed_tables,
            ctx.feed_fetcher(
                source,
                [
                    "site.created",
                    "site.updated",
                    "site.status",
                    "column.created",
                    "column.updated",
                    "column.moved",
                    "column.deleted",
                    "publication.published",
                    "publication.archived",
                    "publication.moved",
                    "publication.updated",
                    "publication.withdrawn",
                ],
            ),
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )
    state = OversightState(settings, ctx.directory)
    ctx.state = state
    ctx.consumers.append(
        LinkFollower(
            ctx.db,
            feed_tables,
            ctx.feed_fetcher(source, sorted(LIVE_TOPICS | GONE_TOPICS)),
            checker=state.link_checker,
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )
    if settings.oversight_interaction_source:
        ctx.consumers.append(
            InteractionFollower(
                ctx.db,
                feed_tables,
                ctx.feed_fetcher(settings.oversight_interaction_source, messages.TOPICS),
                poll_seconds=settings.feed_poll_seconds,
                lease_seconds=settings.feed_lease_seconds,
            )
        )
    if settings.oversight_resources_source:
        ctx.consumers.append(
            ResourceFollower(
                ctx.db,
                feed_tables,
                ctx.feed_fetcher(settings.oversight_resources_source, incidents.TOPICS),
                poll_seconds=settings.feed_poll_seconds,
                lease_seconds=settings.feed_lease_seconds,
            )
        )
    if state.mail.configured:  # without a relay there is no channel to people; the alerts stay on the API
        ctx.consumers.append(
            Notifier(
                ctx.db,
                feed_tables,
                ctx.feed_fetcher(NAME, ["alert.raised", "alert.resolved"]),
                identity=lambda: ctx.directory.client("identity"),
                mail=state.mail,
                poll_seconds=settings.feed_poll_seconds,
                lease_seconds=settings.feed_lease_seconds,
            )
        )
    ctx.workers.append(evaluator(ctx.db, feed_tables, settings.oversight_evaluate_seconds))
    ctx.workers.append(
        every(
            "availability probe",
            settings.oversight_probe_seconds,
            lambda: probe_all(
                ctx.db,
                state.probe,
                state.probe_base,
                settings.oversight_probe_deadline_seconds,
                settings.oversight_probe_concurrency,
            ),
            at_start=False,
        )
    )
    ctx.workers.append(periodic(ctx.db, "oversight-probes", 3600, prune_probes))
    recheck = LinkRecheck(ctx.db, state.link_checker, settings.oversight_link_recheck_batch)
    ctx.workers.append(
        every("link recheck", settings.oversight_link_recheck_seconds, recheck, at_start=False)
    )
    ctx.workers.append(
        every(
            "annual report drafts", settings.oversight_report_seconds, lambda: january_drafts(ctx.db, state)
        )
    )

    async def close_clients() -> None:
        await state.probe.aclose()
        await state.outbound.aclose()
        await state.mail.aclose()

    ctx.on_shutdown.append(close_clients)
    return create_service_app(
        ctx,
        [
            scorecards_router,
            incidents_router,
            peer_lag_router,
            statistics_router,
            reports_router,
            dashboard_router,
        ],
        title=TITLE,
    )
