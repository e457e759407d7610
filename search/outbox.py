"""Keeping the index true to the database.

A module that changes a public record calls :func:`record_changed` inside its transaction; the
change lands in the outbox table with the record, so both commit or neither. After the request
(see ``civic.app``), :func:`flush` applies pending entries to the search engine and removes them.
If the engine is down, the entries stay and the next flush (next write, the worker, or
``civic search reindex``) applies them: nothing is lost and the write never fails because of
search.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
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


async def flush(backend, limit: int = 5000) -> int:
    """Apply pending changes in order; returns how many were applied. Never raises: when the
    engine is unavailable the entries stay for the next attempt."""
    applied = 0
    while applied < limit:
        rows = await SearchOutboxEntry.select().order_by(SearchOutboxEntry.id).limit(FLUSH_BATCH)
        if not rows:
            break
        # Only the latest change of each record matters.
        latest: dict[str, dict] = {}
        for row in rows:
            latest[row["document_id"]] = row
        to_index = [document_from_json(r["document"]) for r in latest.values() if r["action"] == ACTION_INDEX]
        to_delete = [doc_id for doc_id, r in latest.items() if r["action"] == ACTION_DELETE]
        try:
            if to_index:
                await _call(backend.index, to_index)
            if to_delete:
                await _call(backend.delete, to_delete)
        except Exception as exc:  # the engine is down or refused: keep the entries
            log.warning("search outbox: %s pending, engine unavailable: %r", len(rows), exc)
            await SearchOutboxEntry.update({
                SearchOutboxEntry.attempts: SearchOutboxEntry.attempts + 1,
                SearchOutboxEntry.last_error: repr(exc)[:500],
            }).where(SearchOutboxEntry.id.is_in([r["id"] for r in rows]))
            return applied
        # Remove exactly the rows applied; a change queued meanwhile keeps its own row.
        await SearchOutboxEntry.delete().where(SearchOutboxEntry.id.is_in([r["id"] for r in rows]))
        applied += len(rows)
    return applied


async def _call(function: Callable, argument):
    """Backends may be synchronous (tantivy) or asynchronous; run blocking ones in a thread."""
    import asyncio
    import inspect

    if inspect.iscoroutinefunction(function):
        return await function(argument)
    return await asyncio.to_thread(function, argument)
