"""The module contract: each participation mechanism declares what it offers in one manifest.

Like a Decidim component manifest: a reader learns what a module offers from its
`__init__.py` alone. The manifest is the only channel between a module and the core: the
composition root (`ashyq/`) reads the enabled manifests, checks them (:func:`check_module`:
every ``lazy("pkg.mod:name")`` is imported, so a wrong name fails when the app starts, with the
module and the field named) and installs what they declare — answer, forward and close hooks,
notification topics, roles — into the core's registries. A module never registers anything
itself by being imported.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, NamedTuple

from civic.engagement.levels import LEVELS
from civic.permissions import Action
from civic.settings import Settings, SettingsError

if TYPE_CHECKING:
    from litestar import Router

    from civic.references.services import Resolved
    from civic.responses.tables import OfficialResponse

MODULES_PACKAGE = "modules"
SLUG = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


class Lazy:
    """A reference ``"package.module:name"`` to a function (or value) of a module, imported when
    first needed: a manifest names its routes, services and hooks without importing them (the
    app reads every manifest to learn what is enabled). :meth:`resolve` imports it; the
    composition root resolves every reference of an enabled module when the app starts.
    Calling a Lazy calls the function; calling an async function gives its awaitable."""

    __slots__ = ("target", "_value")

    def __init__(self, target: str) -> None:
        module_name, sep, name = target.partition(":")
        if not sep or not module_name or not name:
            raise ValueError(f"lazy({target!r}): expected 'package.module:name'")
        self.target = target
        self._value: Any = None

    @property
    def __name__(self) -> str:  # noqa: A003 - reads like the function it stands for
        return self.target.partition(":")[2]

    def resolve(self) -> Any:
        if self._value is None:
            module_name, _, name = self.target.partition(":")
            value = importlib.import_module(module_name)
            for part in name.split("."):
                value = getattr(value, part)
            self._value = value
        return self._value

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"lazy({self.target!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lazy) and other.target == self.target

    def __hash__(self) -> int:
        return hash(self.target)


def lazy(target: str) -> Lazy:
    """The function ``"package.module:name"``, imported when the app starts (see :class:`Lazy`)."""
    return Lazy(target)


def resolved(value: Any) -> Any:
    """A Lazy's target, or the value itself."""
    return value.resolve() if isinstance(value, Lazy) else value


@dataclass(frozen=True)
class NavEntry:
    label: str  # msgid, translated when the menu is drawn
    path: str


@dataclass(frozen=True)
class Role:
    """A membership role a module uses ("moderator"); the label is a msgid. Two modules may
    declare the same role; the core's own are in civic.accounts.roles."""

    name: str
    label: str


@dataclass(frozen=True)
class Topic:
    """A notification topic people choose a delivery for: kinds "ideas.*" belong to topic
    "ideas"; the label is a msgid shown on the notification settings page."""

    name: str
    label: str


@dataclass(frozen=True)
class Export:
    """An open-data download the module offers (label msgid, path), listed on the open data page."""

    label: str
    path: str


ResponseHook = Callable[["OfficialResponse"], Awaitable[None]]


@dataclass(frozen=True)
class Hooks:
    """What the module hears from the official-response engine (civic.responses) about responses
    whose subject is one of its records ("ideas:42"), each called as ``hook(response)`` inside
    the engine's transaction (if it raises, nothing is saved):
    ``answer`` when the body answers, ``forward`` when it forwards the response to another body,
    ``close`` when the answered response is closed."""

    answer: ResponseHook | Lazy | None = None
    forward: ResponseHook | Lazy | None = None
    close: ResponseHook | Lazy | None = None


class PeriodicJob(NamedTuple):
    """Background work `civic worker` runs every ``every_seconds`` (0: every round), or once a
    day from ``at_hour`` (Almaty time) when that is set. ``run`` is an async function called
    with the settings — or with nothing when ``with_settings`` is False — returning how much it
    did (int) or None. One form for the core's jobs, the modules' and the composition root's."""

    name: str
    every_seconds: int
    run: Callable[..., Awaitable[Any]] | Lazy
    at_hour: int | None = None
    with_settings: bool = True

    async def __call__(self, settings: Settings) -> Any:
        return await (self.run(settings) if self.with_settings else self.run())


@dataclass(frozen=True)
class CivicModule:
    slug: str  # URL prefix and template folder
    title: str  # msgid
    piccolo_app: str | None = None  # dotted path of the module's piccolo_app
    router: Callable[[], Router] | Lazy | None = None  # () -> Router: HTML pages and htmx fragments
    api_router: Callable[[], Router] | Lazy | None = None  # () -> Router under /api/v1/<slug>
    nav: tuple[NavEntry, ...] = ()
    staff_links: tuple[NavEntry, ...] = ()
    # participation levels the module offers (civic.engagement.levels), and per process kind
    # where its kinds differ ({"idea": (CONSULT,), "challenge": (DIALOGUE,)}); every level of a
    # kind is one of `levels`.
    levels: tuple[str, ...] = ()
    kind_levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    roles: tuple[Role, ...] = ()  # membership roles the module uses beyond the core's own
    # the civic.permissions.Action values the module checks (documentation, admin listing);
    # a tuple, or lazy("pkg.mod:NAME") naming one where the actions live beside their rules
    permissions: tuple[Action, ...] | Lazy = ()
    topics: tuple[Topic, ...] = ()
    hooks: Hooks = field(default_factory=Hooks)
    exports: tuple[Export, ...] = ()
    search_documents: Callable[[], Any] | Lazy | None = None  # () -> async iterator of Documents
    load_demo: Callable[..., Awaitable[None]] | Lazy | None = None  # (settings, progress) -> None
    # (user_id) -> {section: rows}: what the module holds about a person, for the data export
    personal_data: Callable[[int], Awaitable[dict]] | Lazy | None = None
    # (user_id) -> None: erase what the module keeps about a person beyond the account itself
    # (names, contacts, network traces), when the account is deleted; runs inside the deletion's
    # transaction, before the account's own data goes, so the person's e-mail can still be read.
    forget_person: Callable[[int], Awaitable[None]] | Lazy | None = None
    # background jobs `civic worker` runs: reminders, anonymising old data, closing expired items
    periodic_jobs: tuple[PeriodicJob, ...] = ()
    # (subject ids of this module) -> {id: Resolved} for those that are public now: how another
    # module's record names one of this module's records (civic.references)
    resolve_references: Callable[[list[str]], Awaitable[dict[str, Resolved]]] | Lazy | None = None

    def actions(self) -> tuple[Action, ...]:
        return tuple(resolved(self.permissions))


_CALLABLE_FIELDS = ("router", "api_router", "search_documents", "load_demo", "personal_data", "forget_person",
                    "resolve_references")


def _fail(module: CivicModule | str, where: str, problem: str) -> SettingsError:
    slug = module if isinstance(module, str) else module.slug
    return SettingsError(f"module {slug!r}, {where}: {problem}")


def _check_callable(module: CivicModule, where: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Lazy):
        try:
            target = value.resolve()
        except (ImportError, AttributeError) as exc:
            raise _fail(module, where, f"{value.target!r} cannot be imported ({exc})") from exc
        if not callable(target):
            raise _fail(module, where, f"{value.target!r} is not callable")
    elif not callable(value):
        raise _fail(module, where, f"{value!r} is not callable")


def _check_tuple_of(module: CivicModule, name: str, kind: type) -> None:
    value = getattr(module, name)
    if not isinstance(value, tuple) or not all(isinstance(item, kind) for item in value):
        raise _fail(module, name, f"expected a tuple of {kind.__name__}, got {value!r}")


def check_module(module: CivicModule) -> CivicModule:
    """Check a manifest as the app starts: every field has its type, every level is known,
    every lazy reference imports. Raises SettingsError naming the module and the field."""
    if not isinstance(module, CivicModule):
        raise SettingsError(f"CIVIC_MODULES: {module!r} is not a CivicModule")
    if not SLUG.match(module.slug or ""):
        raise _fail(module.slug, "slug", "lower-case letters, digits and _ only, starting with a letter")
    for name in _CALLABLE_FIELDS:
        _check_callable(module, name, getattr(module, name))
    for name, kind in (("nav", NavEntry), ("staff_links", NavEntry), ("roles", Role), ("topics", Topic),
                       ("exports", Export), ("periodic_jobs", PeriodicJob)):
        _check_tuple_of(module, name, kind)
    unknown = [level for level in module.levels if level not in LEVELS]
    if unknown:
        raise _fail(module, "levels", f"unknown level {unknown[0]!r} (known: {', '.join(LEVELS)})")
    for kind, levels in dict(module.kind_levels).items():
        stray = [level for level in levels if level not in module.levels]
        if stray:
            raise _fail(module, f"kind_levels[{kind!r}]", f"level {stray[0]!r} is not in levels {module.levels!r}")
    if not isinstance(module.hooks, Hooks):
        raise _fail(module, "hooks", f"expected Hooks(...), got {module.hooks!r}")
    for hook in fields(Hooks):
        _check_callable(module, f"hooks.{hook.name}", getattr(module.hooks, hook.name))
    names = [job.name for job in module.periodic_jobs]
    if len(set(names)) != len(names):
        raise _fail(module, "periodic_jobs", "two jobs have the same name")
    for job in module.periodic_jobs:
        if not isinstance(job.every_seconds, int) or job.every_seconds < 0:
            raise _fail(module, f"periodic_jobs[{job.name!r}]", "every_seconds is a whole number >= 0")
        if job.at_hour is not None and not 0 <= job.at_hour <= 23:
            raise _fail(module, f"periodic_jobs[{job.name!r}]", "at_hour is an hour 0-23")
        _check_callable(module, f"periodic_jobs[{job.name!r}]", job.run)
    try:
        actions = module.actions()
    except (ImportError, AttributeError, TypeError) as exc:
        raise _fail(module, "permissions", f"{module.permissions!r} cannot be read ({exc})") from exc
    if not all(isinstance(action, Action) for action in actions):
        raise _fail(module, "permissions", "expected civic.permissions.Action values")
    return module


def available_module_names() -> list[str]:
    package = importlib.import_module(MODULES_PACKAGE)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg)


def load_module(name: str) -> CivicModule:
    module = getattr(importlib.import_module(f"{MODULES_PACKAGE}.{name}"), "module", None)
    if not isinstance(module, CivicModule):
        raise SettingsError(f"CIVIC_MODULES: {name!r} does not export a CivicModule")
    return module


def enabled_modules(settings: Settings, extra: Iterable[CivicModule] = ()) -> list[CivicModule]:
    """The modules CIVIC_MODULES names (all when unset), in that order. `extra` modules (tests,
    plug-ins outside `modules/`) are available next to the discovered ones and obey the same
    setting."""
    extra_by_slug = {m.slug: m for m in extra}
    discovered = available_module_names()
    available = discovered + [slug for slug in extra_by_slug if slug not in discovered]
    names = available if settings.modules is None else list(settings.modules)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SettingsError(f"CIVIC_MODULES: unknown module {unknown[0]!r} (available: {', '.join(available) or 'none'})")
    return [extra_by_slug[n] if n in extra_by_slug else load_module(n) for n in names]
