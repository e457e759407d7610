"""How public petitions become search Documents (ARCHITECTURE.md, "One search index").

Only petitions listed publicly are indexed: one waiting for moderation, not published, or
still reachable by its link only (fewer signatures than its listing threshold) never is, so
the search cannot reveal a link-only petition. Services queue changes with
``search.outbox.record_changed`` inside their transactions (listing, threshold, answer, close).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from modules.petitions.tables import Petition

#: DOMAIN.md §1: either side may start a dialogue; a petition is the citizens' side starting one
#: that the addressee must answer.
PETITION_LEVEL = "dialogue"
BATCH = 500


def _query():
    return Petition.select(
        Petition.id, Petition.key, Petition.title, Petition.ask, Petition.reasons, Petition.summary, Petition.state,
        Petition.lang, Petition.opened_at, Petition.created_at, Petition.threshold_reached_at, Petition.answered_at,
        Petition.listed_at, Petition.territory.path.as_alias("territory_path"),
        Petition.organisation.slug.as_alias("organisation_slug"),
    ).where(Petition.listed_at.is_not_null() & Petition.state.is_in(["open", "closed"]))


async def public_row(petition_id: int) -> dict | None:
    return await _query().where(Petition.id == petition_id).first()


def search_status(row: dict) -> str:
    """open, awaiting_answer, answered or closed (the same words as the list's filter)."""
    if row["state"] == "closed":
        return "closed"
    if row["answered_at"]:
        return "answered"
    if row["threshold_reached_at"]:
        return "awaiting_answer"
    return "open"


def petition_document(row: dict):
    from search.documents import Document

    return Document(
        id=f"petitions:{row['id']}", module="petitions", kind="petition", title=row["title"],
        body=f"{row['ask']}\n\n{row['reasons']}", territory=row["territory_path"] or "",
        organisation=row["organisation_slug"] or "", status=search_status(row), level=PETITION_LEVEL,
        lang=row["lang"] if row["lang"] in ("kk", "ru", "en") else "kk",
        created_at=row["opened_at"] or row["created_at"], url=f"/petitions/{row['key']}", summary=row["summary"] or "",
    )


async def search_documents() -> AsyncIterator:
    """Every listed petition, in id order, read in batches (CivicModule.search_documents)."""
    last_id = 0
    while True:
        rows = await _query().where(Petition.id > last_id).order_by(Petition.id).limit(BATCH)
        for row in rows:
            yield petition_document(row)
        if len(rows) < BATCH:
            break
        last_id = rows[-1]["id"]
