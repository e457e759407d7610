"""Who moderates where: the part of civic.permissions every discussion and queue needs."""

from __future__ import annotations

from civic.permissions import Action, is_active, may, organisations_where
from civic.territory.tables import Organisation


async def may_in(user: dict | None, action: Action, organisation_id: int | None) -> bool:
    """``may`` for a record that belongs to an organisation: with no organisation only site
    administrators may act (a role held somewhere else does not count)."""
    if organisation_id is None:
        return is_active(user) and bool(user.get("is_admin"))
    return await may(user, action, organisation_id)


async def moderates_anywhere(user: dict | None, action: Action) -> bool:
    if not is_active(user):
        return False
    return bool(user.get("is_admin")) or bool(await organisations_where(user, action.roles))


async def organisations_below(roots: list[int]) -> list[int]:
    """The organisations and every body below them (a city akimat, its departments, …)."""
    if not roots:
        return []
    children: dict[int, list[int]] = {}
    for o in await Organisation.select(Organisation.id, Organisation.parent):
        if o["parent"]:
            children.setdefault(o["parent"], []).append(o["id"])
    found, stack = set(), list(roots)
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return sorted(found)


async def moderated_organisations(user: dict | None, action: Action) -> list[int] | None:
    """Every organisation where the person may do ``action``, with the bodies below them;
    None: all of them (a site administrator)."""
    if not is_active(user):
        return []
    if user.get("is_admin"):
        return None
    return await organisations_below(await organisations_where(user, action.roles))
