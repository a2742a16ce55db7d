"""What the routers take from the service context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.kernel.deps import CtxDep
from services.resources.review import Reviewer
from services.resources.service.vocab import Vocabularies
from services.resources.settings import ResourcesSettings
from services.resources.state import ResourcesState
from services.resources.storage import ObjectStore


def _store(ctx: CtxDep) -> ObjectStore:
    return ctx.state_of(ResourcesState).store


def _reviewer(ctx: CtxDep) -> Reviewer:
    return ctx.state_of(ResourcesState).reviewer


def _vocab(ctx: CtxDep) -> Vocabularies:
    return ctx.state_of(ResourcesState).vocab


def _settings(ctx: CtxDep) -> ResourcesSettings:
    settings = ctx.settings
    assert isinstance(settings, ResourcesSettings)
    return settings


StoreDep = Annotated[ObjectStore, Depends(_store)]
ReviewerDep = Annotated[Reviewer, Depends(_reviewer)]
VocabDep = Annotated[Vocabularies, Depends(_vocab)]
SettingsDep = Annotated[ResourcesSettings, Depends(_settings)]
