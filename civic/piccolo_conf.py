"""Piccolo's own entry point (used by `piccolo migrations ...`); the app itself uses civic.db."""

from piccolo.conf.apps import AppRegistry

from civic.db import app_paths, engine_for
from civic.modules import enabled_modules
from civic.settings import load_settings

_settings = load_settings()
DB = engine_for(_settings)
APP_REGISTRY = AppRegistry(apps=app_paths([m.piccolo_app for m in enabled_modules(_settings) if m.piccolo_app]))
