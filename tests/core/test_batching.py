"""Group commit (civic.batching): concurrent callers share one write transaction, each gets its
own result or its own error, one bad request never fails the others, and inside a caller's
transaction the request is written there (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from piccolo.columns import Integer, Varchar
from piccolo.table import Table

from civic import pending
from civic.batching import GroupCommitWriter
from civic.db import is_unique_violation
from civic.runtime import transaction


class BatchProbe(Table, tablename="test_batching_probe"):
    key = Varchar(length=80, unique=True)


class BatchCounter(Table, tablename="test_batching_counter"):
    tag = Varchar(length=40, unique=True)
    total = Integer(default=0)


@pytest.fixture
async def tag(database):
    for table in (BatchProbe, BatchCounter):
        table._meta.db = database  # as civic.db.bind_engine does for the apps' tables
        await table.create_table(if_not_exists=True)
    tag = uuid.uuid4().hex[:12]
    await BatchCounter.insert(BatchCounter(tag=tag, total=0))
    return tag


class Recorder:
    """A batch function: each request is a key to insert (the unique index refuses a repeat);
    ``refuse:`` keys are refused without writing (an exception returned), ``boom:`` keys raise
    half-way through the batch; the counter moves by the rows inserted, in the same transaction."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.calls: list[list[str]] = []

    async def __call__(self, keys: list[str]) -> list:
        self.calls.append(list(keys))
        results: list = []
        added = 0
        for key in keys:
            if key.startswith("refuse:"):
                results.append(LookupError(key))
                continue
            await BatchProbe.insert(BatchProbe(key=key))
            if key.startswith("boom:"):
                raise RuntimeError(key)
            added += 1
            results.append(f"ok:{key}")
        await BatchCounter.update({BatchCounter.total: BatchCounter.total + added}).where(
            BatchCounter.tag == self.tag)
        pending.mark(pending.SEARCH)
        return results


async def stored(tag: str) -> tuple[int, int]:
    total = (await BatchCounter.select(BatchCounter.total).where(BatchCounter.tag == tag).first())["total"]
    rows = await BatchProbe.count().where(BatchProbe.key.like(f"%{tag}%"))
    return total, rows


def writer(recorder: Recorder, **options) -> GroupCommitWriter:
    return GroupCommitWriter(recorder, name="test.batching", **options)


async def test_concurrent_callers_share_one_transaction(tag):
    recorder = Recorder(tag)
    group = writer(recorder, linger=0.01)
    keys = [f"{tag}-{n}" for n in range(60)]

    results = await asyncio.gather(*(group.submit(key) for key in keys))

    assert results == [f"ok:{key}" for key in keys]  # each caller its own result
    assert await stored(tag) == (60, 60)
    assert group.batches < 60 and max(len(call) for call in recorder.calls) > 1
    assert sorted(key for call in recorder.calls for key in call) == sorted(keys)  # each request written once


async def test_batches_are_cut_at_max_batch(tag):
    recorder = Recorder(tag)
    group = writer(recorder, max_batch=7, linger=0.01)
    await asyncio.gather(*(group.submit(f"{tag}-{n}") for n in range(30)))
    assert max(len(call) for call in recorder.calls) == 7
    assert await stored(tag) == (30, 30)


async def test_one_failing_request_does_not_fail_the_others(tag):
    recorder = Recorder(tag)
    group = writer(recorder, linger=0.01)
    await BatchProbe.insert(BatchProbe(key=f"{tag}-taken"))
    good = [f"{tag}-{n}" for n in range(40)]
    bad = {17: f"boom:{tag}", 25: f"{tag}-taken", 31: f"refuse:{tag}"}
    keys = list(good)
    for index, key in sorted(bad.items()):
        keys.insert(index, key)

    results = await asyncio.gather(*(group.submit(key) for key in keys), return_exceptions=True)

    answers = dict(zip(keys, results))
    assert isinstance(answers[f"boom:{tag}"], RuntimeError)  # raised: the batch was split around it
    assert is_unique_violation(answers[f"{tag}-taken"])  # the database refused it, alone
    assert isinstance(answers[f"refuse:{tag}"], LookupError)  # refused by the batch function, not raised
    assert [answers[key] for key in good] == [f"ok:{key}" for key in good]
    # every good row once, the counter in step with the rows (the failed attempts rolled back)
    assert await stored(tag) == (40, 41)  # 41 rows: the one taken before
    assert group.retries >= 1
    assert await BatchProbe.count().where(BatchProbe.key == f"boom:{tag}") == 0


async def test_a_lone_failing_request_gets_its_error(tag):
    group = writer(Recorder(tag))
    with pytest.raises(RuntimeError):
        await group.submit(f"boom:{tag}")
    assert await group.submit(f"{tag}-after") == f"ok:{tag}-after"  # the writer goes on
    assert await stored(tag) == (1, 1)


async def test_inside_a_transaction_the_request_is_written_there(tag):
    recorder = Recorder(tag)
    group = writer(recorder)

    async with transaction():
        assert await group.submit(f"{tag}-kept") == f"ok:{tag}-kept"
    assert group.batches == 0  # not queued: written in the caller's transaction
    assert await stored(tag) == (1, 1)

    with pytest.raises(ZeroDivisionError):
        async with transaction():
            assert await group.submit(f"{tag}-undone") == f"ok:{tag}-undone"
            1 / 0
    assert await stored(tag) == (1, 1)  # rolled back with the caller's transaction

    with pytest.raises(LookupError):  # a refusal is raised in the caller's transaction too
        async with transaction():
            await group.submit(f"refuse:{tag}")
    assert recorder.calls == [[f"{tag}-kept"], [f"{tag}-undone"], [f"refuse:{tag}"]]


async def test_what_a_batch_leaves_for_after_the_response_goes_to_each_caller(tag):
    group = writer(Recorder(tag), linger=0.01)

    async def request(key: str) -> bool:
        pending.start_request()  # as the request middleware does
        await group.submit(key)
        return pending.is_marked(pending.SEARCH)

    assert await asyncio.gather(*(request(f"{tag}-{n}") for n in range(5))) == [True] * 5


async def test_a_caller_gone_before_its_batch_is_not_written(tag):
    group = writer(Recorder(tag), linger=0.05)
    gone = asyncio.create_task(group.submit(f"{tag}-gone"))
    kept = asyncio.create_task(group.submit(f"{tag}-kept"))
    await asyncio.sleep(0.01)
    gone.cancel()
    assert await kept == f"ok:{tag}-kept"
    assert gone.cancelled()
    assert await stored(tag) == (1, 1)


async def test_the_writer_does_not_inherit_a_callers_context(tag):
    import contextvars

    probe: contextvars.ContextVar[str] = contextvars.ContextVar("probe", default="unset")
    seen: list[str] = []

    async def apply(keys: list[str]) -> list[str]:
        seen.append(probe.get())
        return keys

    group = GroupCommitWriter(apply, name="test.context")
    probe.set("caller")
    assert await group.submit("x") == "x"
    assert seen == ["unset"]


async def test_a_batch_function_must_answer_every_request(tag):
    async def apply(keys: list[str]) -> list[str]:
        return []

    group = GroupCommitWriter(apply, name="test.short")
    with pytest.raises(RuntimeError, match="returned 0 results"):
        await group.submit("x")
