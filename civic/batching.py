"""Group commit: many concurrent writers, one write transaction.

A hot write (a surge of petition signatures, say) is cheaper written in batches: one transaction
(and on SQLite one turn of the single write lock, one fsync) for every request waiting at the
moment, instead of one each. :class:`GroupCommitWriter` does this for any module, on public APIs
only — the engine's write transaction (:func:`civic.runtime.transaction`) and ordinary Piccolo
queries inside it::

    async def add_signatures(requests: list[SignRequest]) -> list[SignResult | Exception]:
        ...  # runs inside one write transaction; one result per request, in order

    SIGNATURES = GroupCommitWriter(add_signatures, name="petitions.signatures")

    result = await SIGNATURES.submit(request)  # from any number of concurrent callers

How it works:

* Each event loop has its own queue and one writer task, started on the first request and
  stopped after ``idle_seconds`` without work. The task takes whatever is waiting (up to
  ``max_batch``; after a first request it lingers ``linger`` seconds for company), opens ONE
  write transaction and calls the batch function with the requests in arrival order.
* The batch function returns one entry per request, in order: a result, or an exception
  *instance* for a refusal of that one request (not found, not allowed, too many). A refusal
  must leave the database as if that request had not been there — the function decides it
  before writing. The transaction commits, and each caller gets its own result, or its own
  refusal raised.
* If the batch function *raises* (an unexpected error: a constraint, a bug, a lost
  connection), the transaction rolls back, so nothing of the batch happened, and the batch is
  split in two halves, each retried in its own transaction, recursively. The good requests are
  written and answered; the request that fails alone gets its exception raised, and only it.
  One bad request in a batch of n costs about 2·log2(n) extra transactions (instead of n when
  retrying one by one), and no savepoints, which SQLite and PostgreSQL would otherwise pay on
  every request. The batch function must therefore be safe to run again after a rollback
  (only side effects outside the database, e.g. an in-process cache, are not undone).
* Inside a caller's own transaction (``engine.transaction_exists()``), :meth:`submit` does not
  queue: the batch function runs at once with that one request, in the caller's transaction,
  so it commits or rolls back with the caller's other writes. An exception it raises
  propagates; the caller's transaction decides.
* The writer task runs in an empty :mod:`contextvars` context: it never inherits a caller's
  transaction, language or request state. What a batch left for after the response
  (:mod:`civic.pending`: queued mail, search changes) is handed back to each caller of that
  batch, so the caller's request runs its after-response hooks as if it had written itself.

The batch function sees the database through the current engine (Piccolo queries, including
``Table.raw`` with ``{}`` placeholders, join the batch's transaction); it should read what it
needs for the whole batch at once (``WHERE id IN (…)``) and write with set-based statements.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from civic import pending

log = logging.getLogger(__name__)

Request = TypeVar("Request")
Result = TypeVar("Result")

BatchFunction = Callable[[list[Request]], Awaitable[Sequence[Any]]]

_AFTER = (pending.MAIL, pending.SEARCH)


def _default_transaction():
    from civic.runtime import transaction

    return transaction()


def _in_transaction() -> bool:
    from civic.runtime import current_engine

    return current_engine().transaction_exists()


class _LoopQueue:
    """The queue and the writer task of one event loop."""

    __slots__ = ("waiting", "wakeup", "task")

    def __init__(self) -> None:
        self.waiting: list[tuple[Any, asyncio.Future]] = []
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task | None = None


class GroupCommitWriter(Generic[Request, Result]):
    """Collects requests from concurrent callers on one event loop and writes them in batches,
    each in one write transaction (see the module's documentation).

    :param apply: ``async (requests) -> results``, one result (or exception instance) per
        request, in order; runs inside the batch's write transaction.
    :param name: names the writer task and the log lines.
    :param transaction: makes the write transaction (default: :func:`civic.runtime.transaction`).
    :param in_transaction: whether the caller is inside a transaction already (default: the
        current engine's ``transaction_exists()``).
    """

    def __init__(self, apply: BatchFunction, *, name: str, max_batch: int = 500, linger: float = 0.004,
                 idle_seconds: float = 5.0, transaction: Callable[[], Any] | None = None,
                 in_transaction: Callable[[], bool] | None = None) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.apply = apply
        self.name = name
        self.max_batch = max_batch
        self.linger = linger
        self.idle_seconds = idle_seconds
        self.transaction = transaction or _default_transaction
        self.in_transaction = in_transaction or _in_transaction
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = weakref.WeakKeyDictionary()
        # figures for benches and tests
        self.batches = 0  # committed transactions
        self.written = 0  # requests answered from committed transactions
        self.retries = 0  # transactions rolled back and split

    # ------------------------------------------------------------------ callers

    async def submit(self, request: Request) -> Result:
        """Write one request with whatever else is waiting; its own result, or its own error raised."""
        if self.in_transaction():
            return self._unwrap((await self._apply_checked([request]))[0])
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _LoopQueue()
        future = loop.create_future()
        queue.waiting.append((request, future))
        queue.wakeup.set()
        if queue.task is None or queue.task.done():
            # an empty context: the writer must not inherit this caller's transaction or language
            queue.task = loop.create_task(self._run(queue), name=f"group-commit:{self.name}",
                                          context=contextvars.Context())
        outcome, marks = await future
        for kind in marks:  # the batch's after-response work is this request's to run
            pending.mark(kind)
        return self._unwrap(outcome)

    @staticmethod
    def _unwrap(outcome):
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    # ------------------------------------------------------------------ the writer task

    async def _run(self, queue: _LoopQueue) -> None:
        try:
            while True:
                try:
                    await asyncio.wait_for(queue.wakeup.wait(), timeout=self.idle_seconds)
                except asyncio.TimeoutError:
                    if not queue.waiting:
                        return  # no await between this check and the task's end: no request is lost
                queue.wakeup.clear()
                if self.linger:
                    await asyncio.sleep(self.linger)
                while queue.waiting:
                    taken, queue.waiting = queue.waiting[: self.max_batch], queue.waiting[self.max_batch:]
                    batch = [(request, future) for request, future in taken if not future.done()]  # cancelled callers
                    if batch:
                        try:
                            await self._commit(batch)
                        except BaseException:  # cancelled mid-batch (the loop is closing): nobody answers these
                            for _, future in batch:
                                if not future.done():
                                    future.cancel()
                            raise
        finally:
            # the loop is shutting down (the task was cancelled): nobody will write these
            for _, future in queue.waiting:
                if not future.done():
                    future.cancel()
            queue.waiting = []

    async def _apply_checked(self, requests: list) -> Sequence[Any]:
        results = await self.apply(requests)
        if len(results) != len(requests):
            raise RuntimeError(f"{self.name}: the batch function returned {len(results)} results "
                               f"for {len(requests)} requests")
        return results

    async def _commit(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        pending.start_request()  # collect what this batch leaves for after the response
        try:
            async with self.transaction():
                results = await self._apply_checked([request for request, _ in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if len(batch) == 1:
                log.exception("%s: a request could not be written", self.name)
                self._answer(batch, [exc])
                return
            # nothing of the batch happened: split it, so the bad request ends up alone
            self.retries += 1
            log.warning("%s: a batch of %s failed (%r); retrying it in halves", self.name, len(batch), exc)
            middle = len(batch) // 2
            await self._commit(batch[:middle])
            await self._commit(batch[middle:])
            return
        self.batches += 1
        self.written += len(batch)
        self._answer(batch, results)

    @staticmethod
    def _answer(batch: list[tuple[Any, asyncio.Future]], results: Sequence[Any]) -> None:
        marks = frozenset(kind for kind in _AFTER if pending.is_marked(kind))
        for (_, future), outcome in zip(batch, results):
            if not future.done():
                future.set_result((outcome, marks))
