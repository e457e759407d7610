"""The database engine, chosen from CIVIC_DATABASE_URL, and the Piccolo apps it serves."""

from __future__ import annotations

import sqlite3
import threading
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
    outside a transaction are served without that; writes and transactions are unchanged.

    A read first runs on the calling thread itself, on a connection of its own, within a small
    budget of SQLite steps: most reads of a page (a row by its id, a page of a list along an
    index) finish in well under a millisecond, far less than a trip to another thread and back
    costs (and that thread waits for the interpreter lock while other requests render). A
    read that needs more, or finds the database busy, is stopped and runs again on the shared
    read connection of the event loop, in aiosqlite's thread, so a long read never holds up
    the other requests."""

    #: SQLite virtual-machine steps a read may take on the calling thread (counted in units of
    #: INLINE_STEP; about a millisecond of work) before it moves to the reader thread.
    INLINE_BUDGET = 100
    INLINE_STEP = 1000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._read_connections: dict[int, object] = {}
        self._inline = threading.local()
        self._inline_all: list[sqlite3.Connection] = []
        self._long_reads: set[str] = set()  # statements that went over the budget once

    def _inline_connection(self) -> sqlite3.Connection:
        connection = getattr(self._inline, "connection", None)
        if connection is None:
            # timeout 0: a locked database is not waited for here but in the reader thread
            connection = sqlite3.connect(**{**self.connection_kwargs, "timeout": 0, "check_same_thread": False})
            connection.execute("PRAGMA foreign_keys = 1")
            steps = self._inline.steps = [0]

            def over_budget() -> int:
                steps[0] += 1
                return steps[0] > self.INLINE_BUDGET

            connection.set_progress_handler(over_budget, self.INLINE_STEP)
            self._inline.connection = connection
            self._inline_all.append(connection)
        return connection

    def _read_inline(self, query: str, args) -> list | None:
        """The rows, or None when the read should run in the reader thread instead."""
        if query in self._long_reads:
            return None
        connection = self._inline_connection()
        self._inline.steps[0] = 0
        try:
            cursor = connection.execute(query, args)
            rows = cursor.fetchall()
        except sqlite3.OperationalError as exc:
            message = str(exc)
            if "interrupted" in message:
                if len(self._long_reads) < 1024:
                    self._long_reads.add(query)
                return None
            if "locked" in message or "busy" in message:
                return None
            raise
        # rows as Piccolo's dict_factory makes them, with the column names read once
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row)) for row in rows]

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
            rows = self._read_inline(query, args or [])
            if rows is not None:
                return rows
            connection = await self._read_connection()
            return await connection.execute_fetchall(query, args or [])  # one trip to its thread
        return await super()._run_in_new_connection(query, args, query_type, table)

    async def close_read_connections(self) -> None:
        inline, self._inline_all, self._inline = self._inline_all, [], threading.local()
        for connection in inline:
            connection.close()
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
