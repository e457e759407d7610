"""Which membership roles exist: the core's own, and those the enabled modules declare.

The core knows two roles, ``official`` and ``administrator``. Every other role belongs to the
module that uses it and is declared in its manifest (``CivicModule.roles``, e.g.
``Role("moderator", N_("Moderator"))``); the composition root installs them here when it builds
the app (:func:`install_module_roles`). Two modules may declare the same role.

:func:`assignable_roles` — the core's plus the enabled modules' — is what a membership may be
given (``civic.accounts.services.add_membership``). :func:`known_roles` adds the roles reserved
for mechanisms still to come (councils, the advice bureau, contests, hackathons): the demo
akimat already names people in them, and their labels are shown on profiles.
"""

from __future__ import annotations

from collections.abc import Iterable

from civic.accounts.tables import Role
from civic.i18n.runtime import N_

#: The core's own roles {name: label msgid}.
CORE_ROLES: dict[str, str] = {
    Role.OFFICIAL: N_("Official"),
    Role.ADMINISTRATOR: N_("Administrator"),
}

#: Roles of mechanisms not built yet; known (demo data, labels) but not assignable until a
#: module declares them.
RESERVED_ROLES: dict[str, str] = {
    "consultant": N_("Consultant"),
    "council_member": N_("Council member"),
    "jury": N_("Jury member"),
    "mentor": N_("Mentor"),
}

# {module slug: {role name: label msgid}}, filled by the composition root only.
_module_roles: dict[str, dict[str, str]] = {}


def install_module_roles(module_slug: str, roles: Iterable[tuple[str, str]]) -> None:
    """The roles a module's manifest declares, as (name, label) pairs, replacing what was
    installed for it before."""
    _module_roles[module_slug] = {name: label for name, label in roles}


def assignable_roles() -> dict[str, str]:
    """{name: label msgid}: the core's roles and the installed modules' roles."""
    roles = dict(CORE_ROLES)
    for declared in _module_roles.values():
        for name, label in declared.items():
            roles.setdefault(name, label)
    return roles


def known_roles() -> dict[str, str]:
    """{name: label msgid}: the assignable roles and the reserved ones."""
    return {**RESERVED_ROLES, **assignable_roles()}


def role_label(name: str) -> str:
    """A role's label msgid (the name itself for a role nobody declares)."""
    return known_roles().get(name, name)
