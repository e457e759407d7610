"""What the shared participation tables hold about a person: their data export and what goes
when they delete their account (ARCHITECTURE.md, personal data). Meant to be called by the
core's account services beside each module's ``personal_data`` / ``forget_person``."""

from __future__ import annotations

from datetime import date, datetime

from civic.participation import discussion, follows, supports
from civic.participation.tables import Flag, Follow


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, (datetime, date)) else v) for k, v in row.items()}


async def personal_data(user_id: int) -> dict:
    """Every support, follow, comment and report of the person, whatever the module."""
    return {
        "supports": [_plain(r) for r in await supports.supports_of(user_id)],
        "follows": [_plain(r) for r in await follows.follows_of(user_id)],
        "comments": [_plain(r) for r in await discussion.comments_of_author(user_id)],
        "reports": [_plain(r) for r in await discussion.flags_of_reporter(user_id)],
    }


async def forget_person(user_id: int) -> None:
    """Inside the account deletion's transaction: follows go (nobody is told any more) and the
    person's reports no longer name them. Supports stay, so every counter still matches its
    rows; comments stay under the anonymous name the account takes."""
    await Follow.delete().where(Follow.user == user_id)
    await Flag.update({Flag.reporter: None}).where(Flag.reporter == user_id)
