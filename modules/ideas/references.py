"""Ideas and challenges as targets of references from other modules (civic.references).

The manifest names :func:`resolve` (``resolve_references``). Subject ids are those of the search
documents, "ideas:42" and "ideas:challenge-3", and the same rule decides what is public: the
queries of :mod:`modules.ideas.search` (a pending or hidden idea, a hidden challenge, is not).
"""

from __future__ import annotations

from civic.db import subject_row_id
from civic.references.services import Resolved
from modules.ideas.search import IDEA_LEVEL, _challenge_query, _idea_query
from modules.ideas.tables import Challenge, Idea

CHALLENGE_PREFIX = "ideas:challenge-"


async def resolve(subject_ids: list[str]) -> dict[str, Resolved]:
    """The public ideas and challenges among ``subject_ids``: at most one query for ideas and
    one for challenges, however many ids."""
    ideas: dict[int, str] = {}
    challenges: dict[int, str] = {}
    for subject in subject_ids:
        if subject.startswith(CHALLENGE_PREFIX):
            row_id = subject_row_id("challenge:" + subject[len(CHALLENGE_PREFIX):])
            if row_id is not None:
                challenges[row_id] = subject
        else:
            row_id = subject_row_id(subject) if subject.startswith("ideas:") else None
            if row_id is not None:
                ideas[row_id] = subject
    found: dict[str, Resolved] = {}
    if ideas:
        for row in await _idea_query().where(Idea.id.is_in(sorted(ideas))):
            subject = ideas[row["id"]]
            found[subject] = Resolved(subject=subject, module="ideas", kind="idea", title=row["title"],
                                      url=f"/ideas/{row['id']}", status=row["status"], level=IDEA_LEVEL)
    if challenges:
        for row in await _challenge_query().where(Challenge.id.is_in(sorted(challenges))):
            subject = challenges[row["id"]]
            found[subject] = Resolved(subject=subject, module="ideas", kind="challenge", title=row["title"],
                                      url=f"/ideas/challenges/{row['id']}", status=row["state"],
                                      level=row["level"] or "")
    return found
