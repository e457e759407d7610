"""The one search index shared by every module (docs/architecture.md, "One search index").

    from search import backend_for, Document, SearchQuery
    backend = backend_for(settings)      # Meilisearch if CIVIC_MEILISEARCH_URL, else embedded
    backend.configure()                  # on start
    backend.index([Document(...)])
    results = backend.search(SearchQuery(text="саябақ", territory="/kz/almaty/", facets=("module",)))

The engines themselves are imported lazily, so importing ``search`` (its tables, the outbox)
stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from search.backend import SearchBackend, SearchError, SearchUnavailable
from search.documents import Document, Hit, SearchQuery, SearchResults

if TYPE_CHECKING:
    from civic.settings import Settings

__all__ = ["backend_for", "Document", "Hit", "SearchQuery", "SearchResults", "SearchBackend",
           "SearchError", "SearchUnavailable"]


def backend_for(settings: Settings) -> SearchBackend:
    """Meilisearch when ``settings.meilisearch_url`` is set (``settings.meilisearch_key`` as
    the key; index name from CIVIC_MEILISEARCH_INDEX, default "ashyq"), else the
    embedded tantivy index in ``settings.data_dir / "search"``."""
    if settings.meilisearch_url:
        from search.meili import MeiliBackend

        return MeiliBackend(settings.meilisearch_url, settings.meilisearch_key,
                            index_name=settings.meilisearch_index)
    from search.embedded import EmbeddedBackend

    return EmbeddedBackend(settings.data_dir / "search")
