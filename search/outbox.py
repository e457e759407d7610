"""Keeping the index true to the database.

A module that changes a public record calls :func:`record_changed` inside its transaction; the
change lands in the outbox table with the record, so both commit or neither. After the request
(see ``ashyq.app``), :func:`flush` applies pending entries to the search engine and removes them.
If the engine is down, the entries stay and the next flush (next write, the worker, or
``civic search reindex``) applies them: nothing is lost and the write never fails because of
search. Flushes in different processes claim what they apply (see :func:`flush`), so changes
reach the index in the order they were made.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from civic import pending
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
    pending.mark(pending.SEARCH)


async def pending_count() -> int:
    return await SearchOutboxEntry.count()


#: A flush holding entries longer than this has died; its entries go to the next flush.
CLAIM_TIMEOUT = timedelta(minutes=5)
#: The PostgreSQL advisory lock taken for the moment of claiming ("ashyqsob").
CLAIM_LOCK_KEY = 0x6173687971736F62


async def flush(backend, limit: int = 5000) -> int:
    """Apply pending changes in order; returns how many were applied. Never raises: when the
    engine is unavailable the entries stay for the next attempt.

    Flushes may run at once in several processes (app replicas, ``civic worker``). Each one
    claims a batch, applies it and removes it; while a flush holds entries of a record, other
    flushes leave that record's newer entries alone, and the holder takes them in its next
    batch, so a record's versions reach the index in the order they were written. Only the
    claim itself runs under a lock, never the wait for the engine.
    """
    applied = 0
    while applied < limit:
        token, rows = await _claim_batch()
        if not rows:
            break
        # Only the latest change of each record matters.
        latest: dict[str, dict] = {}
        for row in rows:
            latest[row["document_id"]] = row
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
                SearchOutboxEntry.claim_token: None,
                SearchOutboxEntry.claimed_at: None,
            }).where(SearchOutboxEntry.claim_token == token)
            return applied
        # Remove exactly the rows applied; a change queued meanwhile keeps its own row.
        await SearchOutboxEntry.delete().where(SearchOutboxEntry.claim_token == token)
        applied += len(rows)
    return applied


async def _claim_batch() -> tuple[str, list[dict]]:
    """Claim the oldest entries whose records no other live flush holds, in one short
    transaction (SQLite's write lock, or an advisory lock on PostgreSQL)."""
    from piccolo.engine.postgres import PostgresEngine

    from civic.db import write_transaction

    token = secrets.token_hex(16)
    moment = datetime.now(timezone.utc)
    stale = moment - CLAIM_TIMEOUT
    free = SearchOutboxEntry.claim_token.is_null() | (SearchOutboxEntry.claimed_at < stale)
    engine = SearchOutboxEntry._meta.db
    async with write_transaction(engine):
        if isinstance(engine, PostgresEngine):
            await SearchOutboxEntry.raw("SELECT pg_advisory_xact_lock({})", CLAIM_LOCK_KEY)
        rows = await SearchOutboxEntry.select(SearchOutboxEntry.id, SearchOutboxEntry.document_id).where(
            free).order_by(SearchOutboxEntry.id).limit(FLUSH_BATCH)
        if not rows:
            return token, []
        held = {row["document_id"] for row in await SearchOutboxEntry.select(SearchOutboxEntry.document_id).where(
            SearchOutboxEntry.claim_token.is_not_null() & (SearchOutboxEntry.claimed_at >= stale)
            & SearchOutboxEntry.document_id.is_in(sorted({r["document_id"] for r in rows})))}
        ids = [row["id"] for row in rows if row["document_id"] not in held]
        if not ids:
            return token, []
        await SearchOutboxEntry.update({SearchOutboxEntry.claim_token: token, SearchOutboxEntry.claimed_at: moment}).where(
            SearchOutboxEntry.id.is_in(ids))
    return token, await SearchOutboxEntry.select().where(
        SearchOutboxEntry.claim_token == token).order_by(SearchOutboxEntry.id)


async def _call(function: Callable, argument):
    """Backends may be synchronous (tantivy) or asynchronous; run blocking ones in a thread."""
    import asyncio
    import inspect

    if inspect.iscoroutinefunction(function):
        return await function(argument)
    return await asyncio.to_thread(function, argument)
