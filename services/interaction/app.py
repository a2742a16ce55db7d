"""The interaction service's app: 互动交流（领导信箱、咨询、投诉、建议、求助）."""

from __future__ import annotations

from fastapi import FastAPI

from services.interaction.api import routers
from services.interaction.api.metrics import root_router as metrics_router
from services.interaction.models import feed_tables, metadata
from services.interaction.service.delivery import (
    PUBLISHED,
    Links,
    PublicationDelivery,
    documents_fetcher,
)
from services.interaction.service.interview_views import DbEntrySource
from services.interaction.service.interviews import InterviewRuntime
from services.interaction.service.livestream import StreamHub
from services.interaction.service.pages import content_lookup
from services.interaction.service.review import resources_review
from services.interaction.service.sending import Bucket, Pace
from services.interaction.service.staff import identity_staff
from services.interaction.service.subscriptions import Signer, content_columns, resource_vocabularies
from services.interaction.service.throttle import Throttle
from services.interaction.service.transcripts import REJECTED_TOPIC, TranscriptReviews, content_columns_of
from services.interaction.service.transcripts import Pace as TranscriptPace
from services.interaction.settings import InteractionSettings
from services.interaction.state import InteractionState
from services.interaction.workers import (
    closing_worker,
    deadline_worker,
    digest_worker,
    subscription_sender,
    transcript_worker,
)
from services.kernel.app import create_service_app
from services.kernel.client import ServiceDirectory
from services.kernel.mail import MailSender
from services.kernel.runtime import build_context, migrations_dir

NAME = "interaction"
TITLE = "互动交流"
DESCRIPTION = "领导信箱、咨询投诉建议求助：机器审查、受理转办、工作日时限、答复公开、隐私遮蔽"
MIGRATIONS = migrations_dir(__file__)
settings_class = InteractionSettings

__all__ = ["MIGRATIONS", "NAME", "create_app", "metadata", "settings_class"]


def create_app(
    settings: InteractionSettings | None = None,
    *,
    directory: ServiceDirectory | None = None,
    run_workers: bool = True,
) -> FastAPI:
    settings = settings or InteractionSettings()
    ctx = build_context(NAME, settings, feed=feed_tables, directory=directory, run_workers=run_workers)
    signer = Signer(settings.subscription_secret, settings.subscription_confirm_max_age_seconds)
    links = Links(settings.subscription_public_url.rstrip("/"), signer)
    mail = MailSender()
    ctx.state = InteractionState(
        review=resources_review(ctx.directory),
        throttle=Throttle(settings.interaction_anonymous_burst, settings.interaction_anonymous_per_hour),
        pages=content_lookup(ctx.directory),
        interviews=InterviewRuntime(
            hub=StreamHub(
                DbEntrySource(ctx.db),
                ring=settings.interview_stream_ring,
                queue=settings.interview_stream_queue,
                poll=settings.interview_stream_poll_seconds,
                max_readers=settings.interview_stream_max_readers,
            ),
            staff=identity_staff(ctx.directory),
            throttle=Throttle(settings.interview_question_burst, settings.interview_question_per_hour),
            columns=content_columns_of(ctx.directory),
            transcript_column=settings.interview_transcript_column,
        ),
        columns=content_columns(ctx.directory),
        codes=resource_vocabularies(ctx.directory),
        signer=signer,
        mail=mail,
        links=links,
    )
    ctx.consumers.append(
        PublicationDelivery(
            ctx.db,
            feed_tables,
            ctx.feed_fetcher("content", topics=[PUBLISHED]),
            documents=documents_fetcher(ctx.directory),
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )
    ctx.consumers.append(
        TranscriptReviews(
            ctx.db,
            feed_tables,
            ctx.feed_fetcher("content", topics=[REJECTED_TOPIC]),
            directory=ctx.directory,
            poll_seconds=settings.feed_poll_seconds,
            lease_seconds=settings.feed_lease_seconds,
        )
    )
    pace = Pace(
        settings.subscription_send_batch,
        settings.subscription_max_attempts,
        settings.subscription_retry_base_seconds,
        settings.subscription_retry_max_seconds,
        lease=settings.subscription_lease_seconds,
        max_bounces=settings.subscription_max_bounces,
        concurrency=settings.subscription_send_concurrency,
    )
    bucket = Bucket(settings.subscription_email_per_second, settings.subscription_email_burst or None)
    ctx.workers.append(
        subscription_sender(ctx, mail, links, pace, settings.subscription_idle_seconds, bucket)
    )
    ctx.workers.append(
        digest_worker(
            ctx,
            mail,
            links,
            pace,
            settings.subscription_digest_hour,
            settings.subscription_digest_interval_seconds,
        )
    )
    ctx.on_shutdown.append(ctx.state.interviews.hub.aclose)
    ctx.on_shutdown.append(mail.aclose)
    ctx.workers.append(deadline_worker(ctx, settings.interaction_sweep_seconds))
    ctx.workers.append(closing_worker(ctx, settings.interaction_sweep_seconds))
    transcript_pace = TranscriptPace(
        settings.interview_transcript_lease_seconds,
        settings.interview_transcript_max_attempts,
        settings.interview_transcript_retry_base_seconds,
        settings.interview_transcript_genre,
    )
    ctx.workers.append(transcript_worker(ctx, transcript_pace, settings.interview_transcript_poll_seconds))
    return create_service_app(
        ctx, routers, title=TITLE, description=DESCRIPTION, root_routers=[metrics_router]
    )
