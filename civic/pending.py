"""Work a request leaves for after its response (queued mail, search changes).

The request middleware opens a fresh set per request; services mark what they queued, and the
after-response hooks skip their database round-trip when nothing was marked. Outside a request
(worker, CLI, tests calling services directly) nothing is tracked and every check says yes, so
queued work is never skipped.
"""

from __future__ import annotations

from contextvars import ContextVar

MAIL = "mail"
SEARCH = "search"

_marks: ContextVar[set[str] | None] = ContextVar("civic_pending_work", default=None)


def start_request() -> None:
    _marks.set(set())


def mark(kind: str) -> None:
    marks = _marks.get()
    if marks is not None:
        marks.add(kind)


def is_marked(kind: str) -> bool:
    marks = _marks.get()
    return marks is None or kind in marks
