"""What the search service keeps beside the kernel context: analyzer, engine, vocabulary."""

from __future__ import annotations

from dataclasses import dataclass

from services.kernel.context import ServiceContext
from services.search.analysis import Analyzer
from services.search.backends.base import SearchBackend
from services.search.querying import Vocabulary
from services.search.querylog import QueryLogBuffer


@dataclass
class SearchState:
    analyzer: Analyzer
    backend: SearchBackend
    vocabulary: Vocabulary
    querylog: QueryLogBuffer


def search_state(ctx: ServiceContext) -> SearchState:
    return ctx.state_of(SearchState)
