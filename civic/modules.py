"""The module contract: each participation mechanism declares what it offers in one manifest.

Like a Decidim component manifest: a reader learns what a module offers from its
`__init__.py` alone, and the core builds the app from the enabled manifests without
knowing any module by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from civic.settings import Settings, SettingsError

if TYPE_CHECKING:
    from litestar import Router

    from civic.references.services import Resolved

MODULES_PACKAGE = "modules"


def lazy(target: str) -> Callable[..., Any]:
    """The function ``"package.module:name"``, imported when first called: a manifest names its
    routes, services and hooks without importing them (the app reads every manifest to learn
    what is enabled). Calling an async function this way gives its awaitable, as usual."""
    module_name, _, name = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


@dataclass(frozen=True)
class NavEntry:
    label: str  # msgid, translated when the menu is drawn
    path: str


@dataclass(frozen=True)
class CivicModule:
    slug: str
    title: str  # msgid
    piccolo_app: str | None = None  # dotted path of the module's piccolo_app
    router: Callable[[], Router] | None = None
    api_router: Callable[[], Router] | None = None
    nav: tuple[NavEntry, ...] = ()
    levels: tuple[str, ...] = ()  # participation levels, see civic.engagement
    roles: tuple[str, ...] = ()
    search_documents: Callable[[], Any] | None = None
    load_demo: Callable[..., Awaitable[None]] | None = None  # (settings, progress) -> None
    # (user_id) -> {section: rows}: what the module holds about a person, for the data export
    personal_data: Callable[[int], Awaitable[dict]] | None = None
    # (user_id) -> None: erase what the module keeps about a person beyond the account itself
    # (names, contacts, network traces), when the account is deleted; runs inside the deletion's
    # transaction, before the account's own data goes, so the person's e-mail can still be read.
    forget_person: Callable[[int], Awaitable[None]] | None = None
    # Background jobs `civic worker` runs: (name, every_seconds, async job(settings) -> int|None),
    # e.g. reminders, anonymising old personal data, closing expired items.
    periodic_jobs: tuple[tuple[str, int, Callable[..., Awaitable[Any]]], ...] = ()
    staff_links: tuple[NavEntry, ...] = field(default=())
    # (subject ids of this module) -> {id: Resolved} for those that are public now: how another
    # module's record names one of this module's records (civic.references)
    resolve_references: Callable[[list[str]], Awaitable[dict[str, Resolved]]] | None = None


def available_module_names() -> list[str]:
    package = importlib.import_module(MODULES_PACKAGE)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg)


def load_module(name: str) -> CivicModule:
    module = importlib.import_module(f"{MODULES_PACKAGE}.{name}").module
    if not isinstance(module, CivicModule):
        raise SettingsError(f"CIVIC_MODULES: {name!r} does not export a CivicModule")
    return module


def enabled_modules(settings: Settings, extra: Iterable[CivicModule] = ()) -> list[CivicModule]:
    """The modules CIVIC_MODULES names (all when unset), in that order. `extra` modules (tests,
    plug-ins outside `modules/`) are available next to the discovered ones and obey the same
    setting."""
    extra_by_slug = {m.slug: m for m in extra}
    available = available_module_names() + [slug for slug in extra_by_slug if slug not in available_module_names()]
    names = available if settings.modules is None else list(settings.modules)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SettingsError(f"CIVIC_MODULES: unknown module {unknown[0]!r} (available: {', '.join(available) or 'none'})")
    return [extra_by_slug[n] if n in extra_by_slug else load_module(n) for n in names]
