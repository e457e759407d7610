"""How published appeals become search Documents (ARCHITECTURE.md, "One search index").

Only what an official published with the citizen's consent is indexed: the redacted subject,
text and answer, the category's territory, the body holding it and the status. Never the
citizen's identity, the original text or an unpublished answer. Withdrawing the consent or
the publication removes the document (``services.reindex``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from modules.appeals.tables import Appeal
from search.documents import Document

APPEAL_LEVEL = "dialogue"  # DOMAIN.md §1: either side may start it; an exchange that ends in an answer
BATCH = 500


def _query():
    return Appeal.select(
        Appeal.id, Appeal.number, Appeal.public_title, Appeal.public_body, Appeal.public_answer, Appeal.status,
        Appeal.lang, Appeal.created_at, Appeal.category,
        Appeal.territory.path.as_alias("territory_path"),
        Appeal.response.organisation.slug.as_alias("organisation_slug"),
    ).where(Appeal.published_at.is_not_null() & (Appeal.publish_consent == True))  # noqa: E712


async def public_appeal_row(appeal_id: int) -> dict | None:
    return await _query().where(Appeal.id == appeal_id).first()


def appeal_document(row: dict):
    body = row["public_body"]
    if row["public_answer"]:
        body = f"{body}\n\n{row['public_answer']}"
    summary = " ".join(row["public_body"].split())
    return Document(
        id=f"appeals:{row['id']}", module="appeals", kind="appeal", title=row["public_title"], body=body,
        territory=row["territory_path"] or "", organisation=row["organisation_slug"] or "", status=row["status"],
        level=APPEAL_LEVEL, lang=row["lang"] if row["lang"] in ("kk", "ru", "en") else "kk",
        created_at=row["created_at"], url=f"/appeals/{row['number']}",
        summary=summary[:280],
    )


async def search_documents() -> AsyncIterator:
    """Every published appeal, in id order, read in batches (CivicModule.search_documents)."""
    last_id = 0
    while True:
        rows = await _query().where(Appeal.id > last_id).order_by(Appeal.id).limit(BATCH)
        for row in rows:
            yield appeal_document(row)
        if len(rows) < BATCH:
            break
        last_id = rows[-1]["id"]
