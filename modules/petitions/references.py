"""Petitions as targets of references from other modules (civic.references).

The manifest names :func:`resolve` (``resolve_references``). Subject ids are those of the search
documents ("petitions:12"), and the same rule decides what is public: the query of
:mod:`modules.petitions.search` (listed and open or closed; a petition reachable by its link
only, waiting for moderation or rejected is not).
"""

from __future__ import annotations

from civic.db import subject_row_id
from civic.references.services import Resolved
from modules.petitions.search import PETITION_LEVEL, _query, search_status
from modules.petitions.tables import Petition


async def resolve(subject_ids: list[str]) -> dict[str, Resolved]:
    """The public petitions among ``subject_ids``, in one query."""
    wanted = {row_id: subject for subject in subject_ids
              if subject.startswith("petitions:") and (row_id := subject_row_id(subject)) is not None}
    if not wanted:
        return {}
    found: dict[str, Resolved] = {}
    for row in await _query().where(Petition.id.is_in(sorted(wanted))):
        subject = wanted[row["id"]]
        found[subject] = Resolved(subject=subject, module="petitions", kind="petition", title=row["title"],
                                  url=f"/petitions/{row['key']}", status=search_status(row), level=PETITION_LEVEL)
    return found
