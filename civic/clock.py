"""The one clock: aware UTC datetimes everywhere, Almaty's calendar date for deadlines."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

ALMATY = ZoneInfo("Asia/Almaty")


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def almaty_today() -> date:
    return datetime.now(ALMATY).date()
