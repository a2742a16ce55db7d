"""Choosing the engine from settings."""

from __future__ import annotations

from services.search.analysis import Analyzer
from services.search.backends.base import SearchBackend
from services.search.settings import SearchSettings


def make_backend(settings: SearchSettings, analyzer: Analyzer) -> SearchBackend:
    if settings.search_backend == "elasticsearch":
        from services.search.backends.elastic import ElasticBackend

        return ElasticBackend(settings.elasticsearch_url, settings.search_index_prefix, analyzer)
    from services.search.backends.tantivy_backend import TantivyBackend

    return TantivyBackend(settings.index_dir, analyzer)
