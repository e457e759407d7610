"""Wiring shared by the web app, the command line and the tests."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from civic.db import app_paths, bind_engine, engine_for, write_transaction
from civic.modules import CivicModule, enabled_modules
from civic.settings import Settings

_state: dict = {}


def open_database(settings: Settings, modules: list[CivicModule] | None = None) -> Engine:
    modules = enabled_modules(settings) if modules is None else modules
    engine = engine_for(settings)
    registry = AppRegistry(apps=app_paths([m.piccolo_app for m in modules if m.piccolo_app]))
    bind_engine(engine, registry)
    _state["engine"] = engine
    return engine


def current_engine() -> Engine:
    return _state["engine"]


def transaction():
    """A write transaction on the current engine (SQLite's write lock taken at once): the one way
    a service opens a write that must happen completely or not at all."""
    return write_transaction(current_engine())
