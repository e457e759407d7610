"""Who may do what: one rule for every module (docs/architecture.md, "Shared pieces").

A module names each thing that needs permission as an :class:`Action` (a plain value, declared
beside the rule that uses it and listed in the module's manifest) and asks ``may(user, action,
organisation_id)``. A role held in an organisation counts in every body below it (a city
akimat's official acts for its departments), up to :data:`MAX_DEPTH` levels; deleted and blocked
accounts may do nothing; site administrators may do everything a role allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from civic.accounts.tables import Membership
from civic.rules import Denied
from civic.territory.tables import Organisation

#: How far up the organisation tree a role reaches (republic > region > city > district > …).
MAX_DEPTH = 10

CHAIN_SQL = (
    'WITH RECURSIVE chain(id, parent, depth) AS ('
    ' SELECT "id", "parent", 0 FROM "civic_organisation" WHERE "id" = {}'
    ' UNION ALL'
    ' SELECT o."id", o."parent", chain.depth + 1 FROM "civic_organisation" o JOIN chain ON o."id" = chain.parent'
    f' WHERE chain.depth < {MAX_DEPTH})'
)


@dataclass(frozen=True)
class Action:
    """Something that needs permission. ``roles``: membership roles that allow it in the
    organisation or a body above it; with no roles, any signed-in person at ``verification``
    (a :class:`civic.accounts.verification.Level`) or above may do it."""

    name: str
    roles: tuple[str, ...] = ()
    verification: int = 0
    message: str = "You do not have the right to do this."  # msgid shown on refusal


async def organisation_chain(organisation_id: int | None) -> list[int]:
    """The organisation and the bodies above it, nearest first (a department, its akimat, …)."""
    if not organisation_id:
        return []
    rows = await Organisation.raw("SELECT id FROM (" + CHAIN_SQL + " SELECT id, depth FROM chain) x ORDER BY depth",
                                  organisation_id)
    return [r["id"] for r in rows]


def is_active(user: dict | None) -> bool:
    return bool(user) and not user.get("deleted_at") and not user.get("blocked_reason")


async def holds_role(user: dict | None, roles: tuple[str, ...] | str, organisation_id: int | None = None) -> bool:
    """The person holds one of ``roles`` in the organisation or a body above it (anywhere when no
    organisation is given). Site administrators hold every role; inactive accounts none."""
    if not is_active(user):
        return False
    if user.get("is_admin"):
        return True
    roles = (roles,) if isinstance(roles, str) else tuple(roles)
    query = (Membership.user == user["id"]) & Membership.role.is_in(list(roles))
    if organisation_id is not None:
        chain = await organisation_chain(organisation_id)
        if not chain:
            return False
        query &= Membership.organisation.is_in(chain)
    return await Membership.exists().where(query)


async def may(user: dict | None, action: Action, organisation_id: int | None = None) -> bool:
    if not is_active(user):
        return False
    if action.roles:
        return await holds_role(user, action.roles, organisation_id)
    return user.get("is_admin") or int(user.get("verification") or 0) >= action.verification


async def require(user: dict | None, action: Action, organisation_id: int | None = None) -> None:
    """Refuse with :class:`civic.rules.Denied` unless ``may``; changes nothing either way."""
    if not await may(user, action, organisation_id):
        raise Denied(action.message)


async def organisations_where(user: dict | None, roles: tuple[str, ...]) -> list[int]:
    """The organisations where the person holds one of ``roles`` directly (not those below)."""
    if not is_active(user):
        return []
    rows = await Membership.select(Membership.organisation).where(
        (Membership.user == user["id"]) & Membership.role.is_in(list(roles)))
    return sorted({r["organisation"] for r in rows})
