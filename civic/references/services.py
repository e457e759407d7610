"""References between modules (ARCHITECTURE.md, "Shared participation pieces").

A record of one module points at a public record of another by its subject id, the id its
search document has: ``link("hackathons:track-5", "ideas:challenge-3", "source", actor_id)``.
The core knows no module: each enabled module's manifest names a resolver
(``CivicModule.resolve_references``) that turns a batch of its own subject ids into
:class:`Resolved` entries for the records that are public now, under the same rules as its
search documents. :func:`install` fills the registry from the enabled modules when the app is
built. Whatever does not resolve (deleted, hidden, unpublished, a module switched off) is
returned as unavailable: its subject only, never its title.

The module that links one of its records checks that the person may edit that record; the core
checks only that the target is public and that a record does not point at itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from civic.db import is_unique_violation
from civic.engagement.levels import LEVEL_LABELS
from civic.i18n.runtime import N_
from civic.references.tables import Reference
from civic.rules import RuleError
from civic.runtime import transaction

Resolver = Callable[[list[str]], Awaitable[dict[str, "Resolved"]]]

SUBJECT = re.compile(r"^[a-z][a-z0-9_]{0,39}:[A-Za-z0-9_.\-:]{1,79}$")
RELATION = re.compile(r"^[a-z][a-z_]{0,29}$")

_resolvers: dict[str, Resolver] = {}
_module_titles: dict[str, str] = {}


@dataclass(frozen=True)
class Resolved:
    """What a reader may know about a subject: the fields of its public search document, or,
    when ``available`` is False, nothing but the subject id."""

    subject: str
    module: str
    kind: str = ""
    title: str = ""
    url: str = ""
    status: str = ""
    level: str = ""
    available: bool = True

    @classmethod
    def unavailable(cls, subject: str) -> Resolved:
        return cls(subject=subject, module=module_of(subject), available=False)

    @property
    def status_msgid(self) -> str:
        """Statuses are keys ("under_review"); their labels are the same words as msgids
        ("Under review"), as on the search page."""
        return self.status.replace("_", " ").capitalize() if self.status else ""

    @property
    def level_msgid(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)


@dataclass(frozen=True)
class Entry:
    """One link seen from one side: the other side's record, resolved."""

    id: int
    relation: str
    record: Resolved
    created_at: datetime | None = None

    @property
    def module_title(self) -> str:
        """The msgid of the other side's module title (its slug when the module is off)."""
        return _module_titles.get(self.record.module, self.record.module)


def module_of(subject: str) -> str:
    return subject.partition(":")[0] if isinstance(subject, str) else ""


def is_subject(value: object) -> bool:
    return isinstance(value, str) and SUBJECT.match(value) is not None


def install(modules: Iterable) -> None:
    """The registry, filled from the enabled modules' manifests (called where the app, the CLI
    or the worker is built). Replaces what was installed before."""
    modules = list(modules)
    _resolvers.clear()
    _resolvers.update({m.slug: m.resolve_references for m in modules if m.resolve_references is not None})
    _module_titles.clear()
    _module_titles.update({m.slug: m.title for m in modules})


def installed() -> dict[str, Resolver]:
    """The resolvers by module slug (a copy)."""
    return dict(_resolvers)


async def resolve(subject_ids: Iterable[str]) -> dict[str, Resolved]:
    """Every id given, resolved: one call per module for all its ids; an id no module resolves
    as a public record comes back unavailable."""
    wanted = list(dict.fromkeys(subject_ids))
    by_module: dict[str, list[str]] = {}
    for subject in wanted:
        if is_subject(subject) and module_of(subject) in _resolvers:
            by_module.setdefault(module_of(subject), []).append(subject)
    found: dict[str, Resolved] = {}
    for slug, ids in by_module.items():
        answer = await _resolvers[slug](ids)
        for subject in ids:
            record = answer.get(subject)
            # A resolver answers only for its own ids, and only with public records.
            if isinstance(record, Resolved) and record.available and record.subject == subject:
                found[subject] = record
    return {subject: found.get(subject) or Resolved.unavailable(subject) for subject in wanted}


def _check_subject(value: str, field: str) -> None:
    if not is_subject(value):
        raise RuleError(N_("This is not a record that can be referred to."), field=field)


async def link(from_subject: str, to_subject: str, relation: str, actor_id: int | None) -> dict:
    """Record that ``from_subject`` points at ``to_subject`` (``relation``: a short code such as
    "source", "discusses" or "implements"). The target must be a public record now; linking the
    same pair with the same relation again returns the existing link."""
    _check_subject(from_subject, "from_subject")
    _check_subject(to_subject, "to_subject")
    if not isinstance(relation, str) or not RELATION.match(relation):
        raise RuleError(N_("This kind of reference is not known."), field="relation")
    if from_subject == to_subject:
        raise RuleError(N_("A record cannot refer to itself."), field="to_subject")
    if not (await resolve([to_subject]))[to_subject].available:
        raise RuleError(N_("Only a public record can be referred to."), field="to_subject")
    where = ((Reference.from_subject == from_subject) & (Reference.to_subject == to_subject)
             & (Reference.relation == relation))
    try:
        async with transaction():
            existing = await Reference.select().where(where).first()
            if existing is not None:
                return existing
            await Reference.insert(Reference(from_subject=from_subject, to_subject=to_subject, relation=relation,
                                             created_by=actor_id))
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        # another request stored the same link first
    return await Reference.select().where(where).first()


async def unlink(from_subject: str, to_subject: str, relation: str | None = None) -> int:
    """Remove the link (every relation between the two when ``relation`` is None); how many went."""
    where = (Reference.from_subject == from_subject) & (Reference.to_subject == to_subject)
    if relation is not None:
        where &= Reference.relation == relation
    async with transaction():
        count = await Reference.count().where(where)
        if count:
            await Reference.delete().where(where)
    return count


async def _entries(rows: list[dict], other: str) -> list[Entry]:
    resolved = await resolve(row[other] for row in rows)
    return [Entry(id=row["id"], relation=row["relation"], record=resolved[row[other]], created_at=row["created_at"])
            for row in rows]


async def references_from(subject: str) -> list[Entry]:
    """What ``subject`` points at, oldest link first, each target resolved."""
    if not is_subject(subject):
        return []
    rows = await Reference.select().where(Reference.from_subject == subject).order_by(Reference.id)
    return await _entries(rows, "to_subject")


async def references_to(subject: str) -> list[Entry]:
    """What points at ``subject``, oldest link first, each source resolved (a source that is not
    public shows as unavailable)."""
    if not is_subject(subject):
        return []
    rows = await Reference.select().where(Reference.to_subject == subject).order_by(Reference.id)
    return await _entries(rows, "from_subject")
