"""Settings of the search service (env prefix JIYUE_, shared base in the kernel)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from services.kernel.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    service_name: str = "search"
    # JIYUE_SEARCH_BACKEND: the embedded index, or an Elasticsearch cluster.
    search_backend: Literal["tantivy", "elasticsearch"] = "tantivy"
    # JIYUE_ELASTICSEARCH_URL
    elasticsearch_url: str = "http://127.0.0.1:9200"
    # JIYUE_SEARCH_INDEX_PREFIX: names the ES alias/indices, so platforms can share a cluster.
    search_index_prefix: str = "jiyue"
    # JIYUE_SEARCH_DICT_DIR: an operator folder of extra userdict*.txt / synonyms*.txt.
    search_dict_dir: Path | None = None
    # The service whose feed and index documents are followed.
    search_source: str = "content"
    # The service whose consultations, surveys and interviews are indexed from its feed.
    search_interaction_source: str = "interaction"
    # How many changed documents one flush pushes to the engine.
    search_flush_batch: int = 500

    @property
    def index_dir(self) -> Path:
        return self.resolved_data_dir / "search-index"
