"""The new-media push worker: one try per account and important item, on the push loop that
webhooks use too (services/content/loops.py), a few tries in flight per account."""

from __future__ import annotations

from services.content.loops import Pusher
from services.content.service import newmedia
from services.content.service.common import ContentState
from services.content.settings import ContentSettings
from services.content.vocab import DeadLetterKind, NewMediaTaskState, Worker
from services.kernel.context import ServiceContext
from services.kernel.context import Worker as WorkerFn


class NewMediaPusher(Pusher):
    def __init__(self, ctx: ServiceContext, state: ContentState, settings: ContentSettings) -> None:
        super().__init__(
            ctx,
            state,
            settings,
            claim_due=newmedia.claim_due,
            record=newmedia.record,
            dead=NewMediaTaskState.DEAD,
            kind=DeadLetterKind.NEW_MEDIA,
        )


def newmedia_worker(ctx: ServiceContext, state: ContentState, settings: ContentSettings) -> WorkerFn:
    return NewMediaPusher(ctx, state, settings).worker(Worker.NEW_MEDIA)
