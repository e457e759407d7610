"""The database engine, chosen from CIVIC_DATABASE_URL, and the Piccolo apps it serves."""

from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlparse

from piccolo.conf.apps import AppConfig, AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from civic.settings import Settings

CORE_APPS = (
    "civic.accounts.piccolo_app",
    "civic.territory.piccolo_app",
    "civic.responses.piccolo_app",
    "civic.notify.piccolo_app",
    "civic.references.piccolo_app",
    "civic.participation.piccolo_app",
    "search.piccolo_app",
)


def sqlite_path(database_url: str) -> Path:
    return Path(urlparse(database_url).path)


class ReusingSQLiteEngine(SQLiteEngine):
    """Piccolo opens a new SQLite connection (and a thread) for every query. Plain reads
    outside a transaction share one connection per event loop instead, which makes a page
    with a few queries several times cheaper; writes and transactions are unchanged."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._read_connections: dict[int, object] = {}

    async def _read_connection(self):
        import asyncio

        import aiosqlite
        from piccolo.engine.sqlite import dict_factory

        loop = asyncio.get_running_loop()
        connection = self._read_connections.get(id(loop))
        if connection is None:
            pending = aiosqlite.connect(**self.connection_kwargs)
            pending._thread.daemon = True  # a forgotten connection must not keep the process alive
            connection = await pending
            connection.row_factory = dict_factory
            await connection.execute("PRAGMA foreign_keys = 1")
            self._read_connections[id(loop)] = connection
        return connection

    async def _run_in_new_connection(self, query: str, args=None, query_type: str = "generic", table=None):
        if query_type in ("generic", "select") and query.lstrip()[:6].upper() == "SELECT":
            connection = await self._read_connection()
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        return await super()._run_in_new_connection(query, args, query_type, table)

    async def close_read_connections(self) -> None:
        connections, self._read_connections = self._read_connections, {}
        for connection in connections.values():
            await connection.close()


def engine_for(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = sqlite_path(settings.database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers go on while one request writes; it persists in the file.
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
        return ReusingSQLiteEngine(path=str(path), timeout=30)
    return PostgresEngine(config={"dsn": settings.database_url.replace("postgresql://", "postgres://", 1)})


def app_paths(module_app_paths: list[str]) -> list[str]:
    return [*CORE_APPS, *module_app_paths]


def bind_engine(engine: Engine, registry: AppRegistry) -> None:
    """Point every table of every app at one engine, whatever piccolo_conf says."""
    for app_config in registry.app_configs.values():
        for table in app_config.table_classes:
            table._meta.db = engine


def app_configs(registry: AppRegistry) -> list[AppConfig]:
    return list(registry.app_configs.values())


def write_transaction(engine: Engine):
    """A transaction that takes SQLite's write lock at once, so concurrent writers queue
    instead of failing half-way; on PostgreSQL an ordinary transaction."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


#: Row ids are 32-bit integers on PostgreSQL.
MAX_ROW_ID = 2**31 - 1


def subject_row_id(subject: str) -> int | None:
    """The row id in a subject such as "ideas:42", or None when it cannot be one (a query with
    a number beyond 32 bits would fail on PostgreSQL instead of finding nothing)."""
    _, _, tail = (subject or "").partition(":")
    if not tail.isdigit():
        return None
    value = int(tail)
    return value if 0 < value <= MAX_ROW_ID else None


def is_unique_violation(exc: BaseException) -> bool:
    """A unique index refused the write (asyncpg's UniqueViolationError, sqlite3's IntegrityError):
    another request wrote the same thing first."""
    name = type(exc).__name__
    return name in ("UniqueViolationError", "IntegrityError") or "UNIQUE constraint" in str(exc)


@asynccontextmanager
async def atomic(engine: Engine):
    async with write_transaction(engine) as transaction:
        yield transaction


async def migrate(quiet: bool = True) -> None:
    """Apply every app's migrations (the core's and each enabled module's) to the configured database."""
    import os

    os.environ.setdefault("PICCOLO_CONF", "civic.piccolo_conf")
    from piccolo.apps.migrations.commands.forwards import run_forwards

    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migration failed: {response.message}")
