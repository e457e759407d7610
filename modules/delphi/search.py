"""How published Delphi studies become search Documents (docs/architecture.md, "One search index").

Only published studies are indexed, and only what is public about them: the topic, the
purpose, the questions in their last wording and the aggregates of the last round (median and
consensus state). Individual answers and justifications are never indexed. The document itself
is built by ``services.public_document`` (services re-index a study when it changes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from modules.delphi.services import DELPHI_LEVEL, public_document
from modules.delphi.tables import Study

__all__ = ["DELPHI_LEVEL", "public_document", "search_documents"]


async def search_documents() -> AsyncIterator:
    """Every published study (CivicModule.search_documents)."""
    rows = await Study.select(Study.id).where(Study.published_at.is_not_null()).order_by(Study.id)
    for row in rows:
        document = await public_document(row["id"])
        if document is not None:
            yield document
