"""Published Delphi studies as targets of references from other modules (civic.references).

The manifest names :func:`resolve` (``resolve_references``). Subject ids are those of the search
documents ("delphi:7"). Public means what :mod:`modules.delphi.search` indexes: a study whose
results are published (``published_at`` set); a draft, running or finished but unpublished study
is not. Only the topic is given, never an answer or a panelist.
"""

from __future__ import annotations

from civic.db import subject_row_id
from civic.references.services import Resolved
from modules.delphi.search import DELPHI_LEVEL
from modules.delphi.tables import Study


def _published():
    # the condition of modules.delphi.search.search_documents and public_document
    return Study.published_at.is_not_null()


async def resolve(subject_ids: list[str]) -> dict[str, Resolved]:
    """The published studies among ``subject_ids``, in one query."""
    wanted = {row_id: subject for subject in subject_ids
              if subject.startswith("delphi:") and (row_id := subject_row_id(subject)) is not None}
    if not wanted:
        return {}
    rows = await Study.select(Study.id, Study.key, Study.title).where(Study.id.is_in(sorted(wanted)) & _published())
    return {wanted[row["id"]]: Resolved(subject=wanted[row["id"]], module="delphi", kind="study", title=row["title"],
                                        url=f"/delphi/{row['key']}/results", status="published", level=DELPHI_LEVEL)
            for row in rows}
