"""Territory tree and organisations."""

from __future__ import annotations

from civic.territory.tables import Organisation, Territory


async def territory_tree() -> list[dict]:
    """Every territory in path order with its depth, for indented lists and selects."""
    rows = await Territory.select().order_by(Territory.path)
    for row in rows:
        row["depth"] = row["path"].strip("/").count("/")
    return rows


async def territory_by_code(code: str) -> dict | None:
    return await Territory.select().where(Territory.code == code).first()


async def descendants(territory: dict) -> list[dict]:
    return await Territory.select().where(Territory.path.like(territory["path"] + "%")).order_by(Territory.path)


async def organisations(kind: str | None = None) -> list[dict]:
    query = Organisation.select(Organisation.all_columns(),
                                Organisation.territory.name_kk.as_alias("territory_name_kk"),
                                Organisation.territory.name_ru.as_alias("territory_name_ru"),
                                Organisation.territory.name_en.as_alias("territory_name_en")).where(
        Organisation.is_public == True)  # noqa: E712
    if kind:
        query = query.where(Organisation.kind == kind)
    return await query.order_by(Organisation.territory.path).order_by(Organisation.kind).order_by(Organisation.slug)


async def organisation_by_slug(slug: str) -> dict | None:
    return await Organisation.select(Organisation.all_columns(),
                                     Organisation.territory.name_kk.as_alias("territory_name_kk"),
                                     Organisation.territory.name_ru.as_alias("territory_name_ru"),
                                     Organisation.territory.name_en.as_alias("territory_name_en")).where(
        Organisation.slug == slug).first()
