"""How published Delphi studies become search Documents (ARCHITECTURE.md, "One search index").

Only published studies are indexed, and only what is public about them: the topic, the
purpose, the questions in their last wording and the aggregates of the last round (median and
consensus state). Individual answers and justifications are never indexed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from modules.delphi.tables import Study

DELPHI_LEVEL = "consult"  # DOMAIN.md §1: the akimat asks experts; advice considered, not binding


def _fmt(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


async def public_document(study_id: int):
    from modules.delphi import services
    from search.documents import Document

    row = await Study.select(Study.key).where((Study.id == study_id) & Study.published_at.is_not_null()).first()
    if row is None:
        return None
    study = await services.get_study(row["key"])
    results = await services.study_results(None, study, with_justifications=False)
    lines = [study["purpose"]]
    for entry in results["questions"]:
        summary = entry["last"]
        line = f"{entry['question']['code']}. {entry['text']}"
        if summary is not None and not summary.withheld and summary.median is not None:
            line += f" — {_fmt(summary.median)} {entry['question']['unit']}".rstrip()
        lines.append(line)
    if study["conclusion"]:
        lines.append(study["conclusion"])
    from civic.territory.tables import Organisation

    organisation = await Organisation.select(Organisation.slug, Organisation.territory.path.as_alias("path")).where(
        Organisation.id == study["organisation"]).first()
    return Document(
        id=f"delphi:{study_id}", module="delphi", kind="study", title=study["title"], body="\n".join(lines),
        territory=(organisation or {}).get("path") or "", organisation=(organisation or {}).get("slug") or "",
        status="published", level=DELPHI_LEVEL, lang=study["lang"] if study["lang"] in ("kk", "ru", "en") else "kk",
        created_at=study["published_at"], url=f"/delphi/{study['key']}/results",
        summary=study["purpose"][:280],
    )


async def search_documents() -> AsyncIterator:
    """Every published study (CivicModule.search_documents)."""
    rows = await Study.select(Study.id).where(Study.published_at.is_not_null()).order_by(Study.id)
    for row in rows:
        document = await public_document(row["id"])
        if document is not None:
            yield document
