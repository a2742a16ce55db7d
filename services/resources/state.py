"""The resources service's typed state on its context (`ctx.state_of(ResourcesState)`)."""

from __future__ import annotations

from dataclasses import dataclass

from services.resources.review import Reviewer
from services.resources.service.vocab import Vocabularies
from services.resources.storage import ObjectStore


@dataclass
class ResourcesState:
    store: ObjectStore
    reviewer: Reviewer
    vocab: Vocabularies
