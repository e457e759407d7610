"""One frozen settings object, read from CIVIC_* environment variables.

Every variable has a working default so `make run` needs no questions; a bad value stops
start-up with one line naming the variable (SettingsError).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

ALL_MODULES = "all"


class SettingsError(Exception):
    """A CIVIC_* variable is unusable; the message names it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str = "eGov ID"
    meilisearch_url: str | None = None
    meilisearch_key: str | None = None
    meilisearch_index: str = "ashyq"
    modules: tuple[str, ...] | None = None  # None: every module found in modules/
    password_hash_profile: str = "default"  # "cheapest" in tests only
    rate_limits: bool = True
    page_cache_seconds: int = 30  # anonymous pages kept at most this long; 0 turns it off
    debug: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    def with_changes(self, **changes) -> Settings:
        return replace(self, **changes)


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or (parsed.scheme not in ("sqlite",) and not parsed.netloc):
        raise SettingsError(f"{name}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}, got {value!r}")
    return value


def _secret_key(data_dir: Path, value: str | None) -> str:
    if value:
        if len(value) < 32:
            raise SettingsError("CIVIC_SECRET_KEY: must be at least 32 characters long")
        return value
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _index_name(value: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", value):
        raise SettingsError("CIVIC_MEILISEARCH_INDEX: use letters, digits, '-' and '_' only")
    return value


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("CIVIC_DATA_DIR", "./var")).resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"CIVIC_DATA_DIR: cannot create {data_dir} ({exc.strerror})") from exc

    database_url = env.get("CIVIC_DATABASE_URL") or f"sqlite:///{data_dir / 'ashyq.sqlite3'}"
    _url("CIVIC_DATABASE_URL", database_url, ("sqlite", "postgres", "postgresql"))

    base_url = _url("CIVIC_BASE_URL", env.get("CIVIC_BASE_URL", "http://127.0.0.1:8000"), ("http", "https"))
    smtp_url = env.get("CIVIC_SMTP_URL") or None
    if smtp_url:
        _url("CIVIC_SMTP_URL", smtp_url, ("smtp", "smtps"))
    meili_url = env.get("CIVIC_MEILISEARCH_URL") or None
    if meili_url:
        _url("CIVIC_MEILISEARCH_URL", meili_url, ("http", "https"))
    issuer = env.get("CIVIC_OIDC_ISSUER") or None
    if issuer:
        _url("CIVIC_OIDC_ISSUER", issuer, ("http", "https"))
        if not env.get("CIVIC_OIDC_CLIENT_ID"):
            raise SettingsError("CIVIC_OIDC_CLIENT_ID: required when CIVIC_OIDC_ISSUER is set")

    modules_value = env.get("CIVIC_MODULES", ALL_MODULES).strip()
    modules = None
    if modules_value != ALL_MODULES:
        modules = tuple(m.strip() for m in modules_value.split(",") if m.strip())
        bad = [m for m in modules if not m.replace("_", "").isalnum()]
        if bad:
            raise SettingsError(f"CIVIC_MODULES: not a module name: {bad[0]!r}")

    profile = env.get("CIVIC_PASSWORD_HASH_PROFILE", "default")
    if profile not in ("default", "cheapest"):
        raise SettingsError("CIVIC_PASSWORD_HASH_PROFILE: expected 'default' or 'cheapest'")

    cache_value = env.get("CIVIC_PAGE_CACHE_SECONDS", "30").strip()
    if not cache_value.isdigit() or int(cache_value) > 3600:
        raise SettingsError(f"CIVIC_PAGE_CACHE_SECONDS: expected whole seconds from 0 to 3600, got {cache_value!r}")

    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=_secret_key(data_dir, env.get("CIVIC_SECRET_KEY")),
        base_url=base_url.rstrip("/"),
        smtp_url=smtp_url,
        oidc_issuer=issuer,
        oidc_client_id=env.get("CIVIC_OIDC_CLIENT_ID") or None,
        oidc_client_secret=env.get("CIVIC_OIDC_CLIENT_SECRET") or None,
        oidc_name=env.get("CIVIC_OIDC_NAME", "eGov ID"),
        meilisearch_url=meili_url,
        meilisearch_key=env.get("CIVIC_MEILISEARCH_KEY") or None,
        meilisearch_index=_index_name(env.get("CIVIC_MEILISEARCH_INDEX", "ashyq")),
        modules=modules,
        password_hash_profile=profile,
        rate_limits=env.get("CIVIC_RATE_LIMITS", "on") != "off",
        page_cache_seconds=int(cache_value),
        debug=env.get("CIVIC_DEBUG", "") == "1",
    )
