"""How public ideas and challenges become search Documents (ARCHITECTURE.md, "One search index").

Only public records are indexed: an idea waiting for pre-moderation or hidden by a moderator
never is, and hiding one removes it (services call ``search.outbox.record_changed`` with None).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from modules.ideas.tables import Challenge, Idea

IDEA_LEVEL = "consult"  # DOMAIN.md §1: advice is not binding but must be considered and answered
BATCH = 500


def _idea_query():
    return Idea.select(
        Idea.id, Idea.title, Idea.body, Idea.summary, Idea.status, Idea.lang, Idea.created_at,
        Idea.territory.path.as_alias("territory_path"), Idea.organisation.slug.as_alias("organisation_slug"),
    ).where(Idea.visibility == "visible")


def _challenge_query():
    return Challenge.select(
        Challenge.id, Challenge.title, Challenge.problem, Challenge.success_criteria, Challenge.summary,
        Challenge.state, Challenge.level, Challenge.lang, Challenge.created_at,
        Challenge.territory.path.as_alias("territory_path"),
        Challenge.organisation.slug.as_alias("organisation_slug"),
    ).where(Challenge.visibility == "visible")


async def public_idea_row(idea_id: int) -> dict | None:
    return await _idea_query().where(Idea.id == idea_id).first()


async def public_challenge_row(challenge_id: int) -> dict | None:
    return await _challenge_query().where(Challenge.id == challenge_id).first()


def idea_document(row: dict):
    from search.documents import Document

    return Document(
        id=f"ideas:{row['id']}", module="ideas", kind="idea", title=row["title"], body=row["body"],
        territory=row["territory_path"] or "", organisation=row["organisation_slug"] or "", status=row["status"],
        level=IDEA_LEVEL, lang=row["lang"] or "kk", created_at=row["created_at"], url=f"/ideas/{row['id']}",
        summary=row["summary"] or "",
    )


def challenge_document(row: dict):
    from search.documents import Document

    return Document(
        id=f"ideas:challenge-{row['id']}", module="ideas", kind="challenge", title=row["title"],
        body=f"{row['problem']}\n\n{row['success_criteria']}", territory=row["territory_path"] or "",
        organisation=row["organisation_slug"] or "", status=row["state"], level=row["level"] or "",
        lang=row["lang"] or "kk", created_at=row["created_at"], url=f"/ideas/challenges/{row['id']}",
        summary=row["summary"] or "",
    )


async def search_documents() -> AsyncIterator:
    """Every public idea and challenge, in id order, read in batches (CivicModule.search_documents)."""
    last_id = 0
    while True:
        rows = await _idea_query().where(Idea.id > last_id).order_by(Idea.id).limit(BATCH)
        for row in rows:
            yield idea_document(row)
        if len(rows) < BATCH:
            break
        last_id = rows[-1]["id"]
    for row in await _challenge_query().order_by(Challenge.id):
        yield challenge_document(row)
