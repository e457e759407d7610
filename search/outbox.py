"""Keeping the index true to the database.

A module that changes a public record calls :func:`record_changed` inside its transaction; the
change lands in the outbox table with the record, so both commit or neither. After the request
(see ``civic.app``), :func:`flush` applies pending entries to the search engine and removes them.
If the engine is down, the entries stay and the next flush (next write, the worker, or
``civic search reindex``) applies them: nothing is lost and the write never fails because of
search. Flushes take turns across processes (see :func:`flush`), so changes reach the index in
the order they were made.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any, AsyncIterator, Callable, Iterable

from search.tables import SearchOutboxEntry

log = logging.getLogger(__name__)

ACTION_INDEX = "index"
ACTION_DELETE = "delete"
FLUSH_BATCH = 200


def document_to_json(document: Any) -> dict:
    data = dataclasses.asdict(document) if dataclasses.is_dataclass(document) else dict(
        (name, getattr(document, name)) for name in document.__struct_fields__)
    return {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in data.items()}


def document_from_json(data: dict | str):
    import json

    from search.documents import Document

    values = dict(json.loads(data) if isinstance(data, str) else data)  # Piccolo's JSON column reads back text
    if isinstance(values.get("created_at"), str):
        values["created_at"] = datetime.fromisoformat(values["created_at"])
    return Document(**values)


async def record_changed(document_id: str, document: Any | None) -> None:
    """Queue the record's new state: a Document to (re)index, or None to remove it (deleted,
    hidden, made private). Call it inside the transaction that changes the record."""
    if document is not None and getattr(document, "id", document_id) != document_id:
        raise ValueError("document id does not match")
    await SearchOutboxEntry.insert(SearchOutboxEntry(
        document_id=document_id,
        action=ACTION_INDEX if document is not None else ACTION_DELETE,
        document=document_to_json(document) if document is not None else {},
    ))


async def pending_count() -> int:
    return await SearchOutboxEntry.count()


#: The PostgreSQL advisory lock that serialises flushes across processes ("ashyqsob").
FLUSH_LOCK_KEY = 0x6173687971736F62


async def flush(backend, limit: int = 5000) -> int:
    """Apply pending changes in order; returns how many were applied. Never raises: when the
    engine is unavailable the entries stay for the next attempt.

    Flushes in different processes (two app replicas, a replica and ``civic worker``) take
    turns: each batch is read, applied and removed while holding a lock shared by every
    process (on PostgreSQL a transaction-level advisory lock, on SQLite the database's write
    lock), so no flush can apply a change it read before another flush applied a newer one
    of the same record."""
    if not await SearchOutboxEntry.exists():  # the usual case after a write: nothing to lock for
        return 0
    applied = 0
    while applied < limit:
        done, count = await _flush_batch(backend)
        applied += count
        if done:
            break
    return applied


async def _flush_batch(backend) -> tuple[bool, int]:
    """One batch under the lock: (whether to stop, how many entries were applied)."""
    from piccolo.engine.postgres import PostgresEngine

    from civic.db import write_transaction

    engine = SearchOutboxEntry._meta.db
    async with write_transaction(engine):  # SQLite: BEGIN IMMEDIATE takes the write lock now
        if isinstance(engine, PostgresEngine):
            await SearchOutboxEntry.raw("SELECT pg_advisory_xact_lock({})", FLUSH_LOCK_KEY)
        rows = await SearchOutboxEntry.select().order_by(SearchOutboxEntry.id).limit(FLUSH_BATCH)
        if not rows:
            return True, 0
        # Only the latest change of each record matters.
        latest: dict[str, dict] = {}
        for row in rows:
            latest[row["document_id"]] = row
        ids = [r["id"] for r in rows]
        try:
            to_index = [document_from_json(r["document"]) for r in latest.values() if r["action"] == ACTION_INDEX]
            to_delete = [doc_id for doc_id, r in latest.items() if r["action"] == ACTION_DELETE]
            if to_index:
                await _call(backend.index, to_index)
            if to_delete:
                await _call(backend.delete, to_delete)
        except Exception as exc:  # the engine is down or refused: keep the entries
            log.warning("search outbox: %s pending, engine unavailable: %r", len(rows), exc)
            await SearchOutboxEntry.update({
                SearchOutboxEntry.attempts: SearchOutboxEntry.attempts + 1,
                SearchOutboxEntry.last_error: repr(exc)[:500],
            }).where(SearchOutboxEntry.id.is_in(ids))
            return True, 0
        # Remove exactly the rows applied; a change queued meanwhile keeps its own row.
        await SearchOutboxEntry.delete().where(SearchOutboxEntry.id.is_in(ids))
        return False, len(rows)


async def _call(function: Callable, argument):
    """Backends may be synchronous (tantivy) or asynchronous; run blocking ones in a thread."""
    import asyncio
    import inspect

    if inspect.iscoroutinefunction(function):
        return await function(argument)
    return await asyncio.to_thread(function, argument)


async def reindex(backend, sources: Iterable[Callable[[], AsyncIterator]], progress: Callable[[int], None] | None = None,
                  batch_size: int = 500) -> dict:
    """Rebuild the index from the database while the site keeps serving: index every public
    record in batches, then remove what the index has and the database no longer offers.
    Pending outbox entries are applied last, so a change made during the rebuild wins."""
    seen: set[str] = set()
    batch: list = []
    indexed = 0
    for source in sources:
        async for document in source():
            batch.append(document)
            seen.add(document.id)
            if len(batch) >= batch_size:
                await _call(backend.index, batch)
                indexed += len(batch)
                if progress:
                    progress(len(batch))
                batch = []
    if batch:
        await _call(backend.index, batch)
        indexed += len(batch)
        if progress:
            progress(len(batch))
    stale = [doc_id for doc_id in await _call_noarg(backend.all_ids) if doc_id not in seen]
    if stale:
        await _call(backend.delete, stale)
    applied = await flush(backend)
    return {"indexed": indexed, "removed": len(stale), "outbox_applied": applied}


async def _call_noarg(function: Callable):
    import asyncio
    import inspect

    if inspect.iscoroutinefunction(function):
        return await function()
    return await asyncio.to_thread(function)
