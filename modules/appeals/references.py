"""Published appeals as targets of references from other modules (civic.references).

The manifest names :func:`resolve` (``resolve_references``). Subject ids are those of the search
documents ("appeals:7"), and the same rule decides what is public: the query of
:mod:`modules.appeals.search` (published with the citizen's consent). Only the redacted public
title is ever given, never the citizen's own words or identity.
"""

from __future__ import annotations

from civic.db import subject_row_id
from civic.references.services import Resolved
from modules.appeals.search import APPEAL_LEVEL, _query
from modules.appeals.tables import Appeal


async def resolve(subject_ids: list[str]) -> dict[str, Resolved]:
    """The published appeals among ``subject_ids``, in one query."""
    wanted = {row_id: subject for subject in subject_ids
              if subject.startswith("appeals:") and (row_id := subject_row_id(subject)) is not None}
    if not wanted:
        return {}
    found: dict[str, Resolved] = {}
    for row in await _query().where(Appeal.id.is_in(sorted(wanted))):
        subject = wanted[row["id"]]
        found[subject] = Resolved(subject=subject, module="appeals", kind="appeal", title=row["public_title"],
                                  url=f"/appeals/{row['number']}", status=row["status"], level=APPEAL_LEVEL)
    return found
