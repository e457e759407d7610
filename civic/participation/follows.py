"""Follows: who hears of what happens to a subject (one per person and subject, a unique index)."""

from __future__ import annotations

from datetime import datetime

from civic.clock import now_utc
from civic.participation.tables import Follow


async def follow(subject: str, user_id: int, now: datetime | None = None) -> bool:
    """Start following (inside the caller's transaction); False if the person already did."""
    inserted = await Follow.insert(Follow(subject=subject, user=user_id, created_at=now or now_utc())).on_conflict(
        action="DO NOTHING").returning(Follow.id)
    return bool(inserted)


async def unfollow(subject: str, user_id: int) -> None:
    await Follow.delete().where((Follow.subject == subject) & (Follow.user == user_id))


async def is_following(subject: str, user_id: int | None) -> bool:
    if not user_id:
        return False
    return await Follow.exists().where((Follow.subject == subject) & (Follow.user == user_id))


async def followers(subject: str) -> list[int]:
    return [r["user"] for r in await Follow.select(Follow.user).where(Follow.subject == subject)]


async def follows_of(user_id: int, prefix: str = "") -> list[dict]:
    query = Follow.select(Follow.subject, Follow.created_at).where(Follow.user == user_id)
    if prefix:
        query = query.where(Follow.subject.like(prefix + "%"))
    return await query.order_by(Follow.id)
