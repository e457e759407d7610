"""Kazakh working days, for the deadlines of answers to citizens' appeals.

The Administrative Procedural Code (art. 76) gives a body **15 working
days** to answer an appeal; an appeal outside its competence is forwarded
within 3 working days; the term may be extended once by **at most 2
months** (calendar months), the applicant being told within 3 working days.
This module does the date arithmetic; the rules live with the appeals code.

Working days are Monday to Friday minus public holidays and days off, taken
from the ``holidays`` package (``holidays.country_holidays("KZ")``), which
includes the days off moved to Mondays when a holiday falls on a weekend and
the days transferred by past government decrees (it also reports the
transferred *working* weekend days, ``weekend_workdays``, which we honour).

The government announces transfers for the coming year by decree, often
after the ``holidays`` release we ship; pass them explicitly::

    WorkCalendar(extra_days_off=[date(2026, 1, 2)],
                 extra_working_days=[date(2026, 1, 3)])

Explicit overrides win over the package. Dates are *local dates in
Kazakhstan*: convert timestamps to Asia/Almaty (or the region's zone) before
calling; a ``datetime`` passed in is reduced to its ``.date()``.

Counting rule (used by :func:`add_working_days` and
:func:`working_days_between`): the day of receipt is not counted; counting
starts on the next working day, whether or not the day of receipt was itself
a working day. So something received on a Friday with a 1-working-day term
is due the next (working) Monday, and received on a Saturday with a
15-working-day term is due on the 15th working day after it.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import holidays

__all__ = [
    "KZ_CALENDAR",
    "WorkCalendar",
    "add_calendar_months",
    "add_working_days",
    "is_working_day",
    "next_working_day",
    "working_days_between",
]

_ONE_DAY = timedelta(days=1)
_WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())


@functools.lru_cache(maxsize=None)
def _kz_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays and days off, weekend days made working) of one year, from the package.

    Holidays are read for ``year`` and ``year + 1`` because a transfer
    decreed for next year can make a working day of a weekend in this one
    (e.g. 28 Dec 2013 worked for 3 Jan 2014).
    """
    kz = holidays.country_holidays("KZ", years=(year, year + 1))
    days_off = frozenset(d for d in kz if d.year == year)
    worked = frozenset(d for d in getattr(kz, "weekend_workdays", ()) if d.year == year)
    return days_off, worked


def _as_date(day: date) -> date:
    if isinstance(day, datetime):
        return day.date()
    if not isinstance(day, date):
        raise TypeError(f"expected a date, got {type(day).__name__}")
    return day


class WorkCalendar:
    """Kazakh working-day calendar with optional decree overrides.

    ``extra_days_off``: dates that are not worked although the package says
    they are (e.g. a Friday given off by a decree the package does not know
    yet). ``extra_working_days``: dates that are worked although they fall on a
    weekend or a holiday (the Saturday the Friday was transferred from). A
    date may not be in both.
    """

    __slots__ = ("extra_days_off", "extra_working_days")

    def __init__(
        self,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self.extra_days_off: frozenset[date] = frozenset(_as_date(d) for d in extra_days_off)
        self.extra_working_days: frozenset[date] = frozenset(
            _as_date(d) for d in extra_working_days
        )
        both = self.extra_days_off & self.extra_working_days
        if both:
            raise ValueError(f"dates both off and working: {sorted(both)}")

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(extra_days_off={sorted(self.extra_days_off)!r}, "
            f"extra_working_days={sorted(self.extra_working_days)!r})"
        )

    # ------------------------------------------------------------------ days

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day in Kazakhstan."""
        day = _as_date(day)
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        days_off, worked = _kz_year(day.year)
        if day.weekday() in _WEEKEND:
            return day in worked
        return day not in days_off

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day = _as_date(day) + _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, start: date, days: int) -> date:
        """Due date of something received on ``start`` with a term of ``days`` working days.

        Counting starts on the working day after ``start`` (the day of receipt
        is never counted, even when it is a working day, and a receipt on a
        holiday still starts counting on the next working day). The result is
        the ``days``-th working day after ``start``; ``days == 0`` returns
        ``start`` itself.

        A negative ``days`` counts backwards: the ``|days|``-th working day
        strictly before ``start`` (e.g. "remind 3 working days before the
        deadline"). ``working_days_between(start, result) == days`` then holds
        whenever ``start`` is a working day.
        """
        day = _as_date(start)
        if days >= 0:
            step, remaining = _ONE_DAY, days
        else:
            step, remaining = -_ONE_DAY, -days
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``.

        Negative when ``end`` is before ``start``:
        ``working_days_between(s, e) == -working_days_between(e, s)``.
        Consistent with :meth:`add_working_days`:
        ``add_working_days(s, n) == e`` implies ``working_days_between(s, e) == n``
        for ``n >= 0``. Useful for "working days left" (``today`` to the
        deadline: 0 on the due date, negative when overdue).
        """
        start, end = _as_date(start), _as_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count


def add_calendar_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of the month.

    For the "one extension of at most 2 months" rule: 31 Dec + 2 months is
    28 (or 29) Feb. Negative ``months`` go back. A ``datetime`` keeps its time.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


#: Default calendar: the ``holidays`` package, no overrides.
KZ_CALENDAR = WorkCalendar()


def is_working_day(day: date) -> bool:
    """:meth:`WorkCalendar.is_working_day` of :data:`KZ_CALENDAR`."""
    return KZ_CALENDAR.is_working_day(day)


def next_working_day(day: date) -> date:
    """:meth:`WorkCalendar.next_working_day` of :data:`KZ_CALENDAR`."""
    return KZ_CALENDAR.next_working_day(day)


def add_working_days(start: date, days: int) -> date:
    """:meth:`WorkCalendar.add_working_days` of :data:`KZ_CALENDAR`."""
    return KZ_CALENDAR.add_working_days(start, days)


def working_days_between(start: date, end: date) -> int:
    """:meth:`WorkCalendar.working_days_between` of :data:`KZ_CALENDAR`."""
    return KZ_CALENDAR.working_days_between(start, end)
