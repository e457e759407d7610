"""Supports and votes: one per person and subject (a unique index), the module's counter changed
in the same transaction, and a threshold hook.

The module keeps its own counter column (``Idea.support_count``) for fast sorting and passes
a ``count(step, supported_at)`` callback that changes it atomically and returns the new value
(raising :class:`civic.rules.RuleError` rolls the support back); ``on_count(total)`` is called
after a new support and says whether a threshold was reached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from civic.clock import now_utc
from civic.participation.tables import Support
from civic.runtime import transaction

Counter = Callable[[int, datetime], Awaitable[int]]
ThresholdHook = Callable[[int], Awaitable[bool]]


@dataclass
class SupportChange:
    changed: bool  # False: the person had already supported (or had not, on withdrawal)
    count: int | None = None  # the module's counter after the change; None when unchanged
    threshold_reached: bool = False


async def add_support(subject: str, user_id: int, *, count: Counter, on_count: ThresholdHook | None = None,
                      now: datetime | None = None) -> SupportChange:
    """The person supports the subject, once: a second support changes nothing. Runs in a write
    transaction (the caller's, if one is open)."""
    now = now or now_utc()
    async with transaction():
        inserted = await Support.insert(Support(subject=subject, user=user_id, created_at=now)).on_conflict(
            action="DO NOTHING").returning(Support.id)
        if not inserted:
            return SupportChange(changed=False)
        total = await count(+1, now)
        reached = bool(on_count) and await on_count(total)
        return SupportChange(changed=True, count=total, threshold_reached=reached)


async def withdraw_support(subject: str, user_id: int, *, count: Counter) -> SupportChange:
    """The person takes their support back; ``count(-1, supported_at)`` undoes what it added."""
    async with transaction():
        deleted = await Support.delete().where((Support.subject == subject) & (Support.user == user_id)).returning(
            Support.created_at)
        if not deleted:
            return SupportChange(changed=False)
        return SupportChange(changed=True, count=await count(-1, deleted[0]["created_at"]))


async def has_supported(subject: str, user_id: int | None) -> bool:
    if not user_id:
        return False
    return await Support.exists().where((Support.subject == subject) & (Support.user == user_id))


async def supporters(subject: str) -> list[int]:
    return [r["user"] for r in await Support.select(Support.user).where(Support.subject == subject)]


async def support_count(subject: str) -> int:
    return await Support.count().where(Support.subject == subject)


async def supports_of(user_id: int, prefix: str = "") -> list[dict]:
    """What a person supported (subject and when), oldest first; ``prefix`` "ideas:" for one module."""
    query = Support.select(Support.subject, Support.created_at).where(Support.user == user_id)
    if prefix:
        query = query.where(Support.subject.like(prefix + "%"))
    return await query.order_by(Support.id)
