"""Tests for civic.responses.workdays (Kazakh working days, APC art. 76 terms).

Expected dates are worked out by hand from the 2026-2027 calendars:
2026 days off (from the ``holidays`` package): Thu 1 + Fri 2 Jan, Wed 7 Jan,
Mon 9 Mar (8 Mar was a Sunday), Sat 21 - Wed 25 Mar (Nauryz, with the
weekend days moved to Tue 24 and Wed 25), Fri 1 May, Thu 7 May, Mon 11 May,
Mon 6 Jul, Mon 26 Oct, Wed 16 Dec. 2027: Fri 1 Jan, Mon 4 Jan (2 Jan was a
Saturday), Thu 7 Jan.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import pytest

from civic.responses import workdays
from civic.responses.workdays import (
    KZ_CALENDAR,
    WorkCalendar,
    add_calendar_months,
    add_working_days,
    is_working_day,
    next_working_day,
    working_days_between,
)

D = date


def _days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


# ------------------------------------------------------------ the calendar


def test_nauryz_2026_in_holidays_package():
    kz = holidays.country_holidays("KZ", years=2026)
    for day in range(21, 26):
        assert D(2026, 3, day) in kz, day
    assert D(2026, 3, 20) not in kz
    assert D(2026, 3, 26) not in kz


def test_is_working_day_around_nauryz_2026():
    assert is_working_day(D(2026, 3, 20))  # Fri
    for day in range(21, 26):  # Sat-Wed
        assert not is_working_day(D(2026, 3, day)), day
    assert is_working_day(D(2026, 3, 26))  # Thu


def test_weekends_and_ordinary_days():
    assert is_working_day(D(2026, 2, 6))  # Fri
    assert not is_working_day(D(2026, 2, 7))  # Sat
    assert not is_working_day(D(2026, 2, 8))  # Sun
    assert is_working_day(D(2026, 2, 9))  # Mon


def test_new_year_2027_and_religious_days_off():
    assert not is_working_day(D(2026, 12, 16))  # Independence Day, Wed
    assert is_working_day(D(2026, 12, 31))  # Thu
    assert not is_working_day(D(2027, 1, 1))  # Fri
    assert not is_working_day(D(2027, 1, 4))  # Mon, for Sat 2 Jan
    assert is_working_day(D(2027, 1, 5))
    assert not is_working_day(D(2027, 1, 7))  # Orthodox Christmas, Thu


def test_transferred_working_days_from_package():
    # Decree: Fri 3 Jan 2025 off, worked on Sun 5 Jan 2025.
    assert not is_working_day(D(2025, 1, 3))
    assert is_working_day(D(2025, 1, 5))
    # Sat 4 May 2024 worked for Wed 8 May 2024.
    assert is_working_day(D(2024, 5, 4))
    assert not is_working_day(D(2024, 5, 8))
    # Transfer across a year boundary: Sat 28 Dec 2013 worked for Fri 3 Jan 2014.
    assert is_working_day(D(2013, 12, 28))
    assert not is_working_day(D(2014, 1, 3))


def test_agrees_with_holidays_package_working_days():
    kz = holidays.country_holidays("KZ", years=range(2012, 2029))
    for d in _days(D(2013, 1, 1), D(2027, 12, 31)):
        assert is_working_day(d) == kz.is_working_day(d), d


def test_datetime_is_reduced_to_date():
    assert not is_working_day(datetime(2026, 3, 23, 10, 30))
    assert is_working_day(datetime(2026, 3, 26, 23, 59))
    assert add_working_days(datetime(2026, 3, 20, 17, 0), 1) == D(2026, 3, 26)


def test_rejects_non_dates():
    with pytest.raises(TypeError):
        is_working_day("2026-03-20")  # type: ignore[arg-type]


# ----------------------------------------------------------- adding days


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # weekends
        (D(2026, 2, 6), 1, D(2026, 2, 9)),  # Fri -> Mon
        (D(2026, 2, 7), 1, D(2026, 2, 9)),  # received Sat -> Mon
        (D(2026, 2, 8), 1, D(2026, 2, 9)),  # received Sun -> Mon
        (D(2026, 2, 9), 5, D(2026, 2, 16)),  # Mon -> next Mon
        (D(2026, 2, 13), 0, D(2026, 2, 13)),
        (D(2026, 2, 14), 0, D(2026, 2, 14)),  # 0 days: the start itself
        # Nauryz 2026
        (D(2026, 3, 20), 1, D(2026, 3, 26)),  # Fri -> Thu after Nauryz
        (D(2026, 3, 23), 1, D(2026, 3, 26)),  # received on a holiday
        (D(2026, 3, 20), 15, D(2026, 4, 15)),
        # 15 working days from Mon 2 Mar 2026, across 9 Mar and Nauryz
        (D(2026, 3, 2), 15, D(2026, 3, 27)),
        # New Year 2026/27
        (D(2026, 12, 31), 1, D(2027, 1, 5)),
        (D(2026, 12, 31), 3, D(2027, 1, 8)),  # 7 Jan skipped
        (D(2026, 12, 31), 15, D(2027, 1, 26)),
        (D(2026, 12, 15), 1, D(2026, 12, 17)),  # 16 Dec skipped
        # an ordinary stretch: 15 working days = 3 weeks
        (D(2026, 10, 1), 15, D(2026, 10, 22)),  # Thu -> Thu
        # May 2026: 1, 7 and 11 May off
        (D(2026, 4, 30), 5, D(2026, 5, 12)),
    ],
)
def test_add_working_days(start, days, due):
    assert add_working_days(start, days) == due
    assert working_days_between(start, due) == days


def test_add_working_days_negative():
    # 3 working days before a deadline on Thu 26 Mar 2026: Fri 20, Thu 19, Wed 18.
    assert add_working_days(D(2026, 3, 26), -1) == D(2026, 3, 20)
    assert add_working_days(D(2026, 3, 26), -3) == D(2026, 3, 18)
    assert working_days_between(D(2026, 3, 26), D(2026, 3, 18)) == -3
    # from a non-working day it is the n-th working day strictly before
    assert add_working_days(D(2026, 3, 22), -1) == D(2026, 3, 20)


def test_next_working_day():
    assert next_working_day(D(2026, 3, 20)) == D(2026, 3, 26)
    assert next_working_day(D(2026, 3, 26)) == D(2026, 3, 27)
    assert next_working_day(D(2026, 12, 31)) == D(2027, 1, 5)


# ------------------------------------------------------------ counting days


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        (D(2026, 3, 20), D(2026, 3, 20), 0),
        (D(2026, 3, 20), D(2026, 3, 25), 0),  # all of Nauryz
        (D(2026, 3, 20), D(2026, 3, 26), 1),
        (D(2026, 3, 19), D(2026, 3, 26), 2),
        (D(2026, 2, 6), D(2026, 2, 8), 0),  # Fri -> Sun
        (D(2026, 2, 6), D(2026, 2, 9), 1),
        (D(2026, 2, 9), D(2026, 2, 6), -1),  # backwards: Mon back to Fri counts Mon
        (D(2026, 1, 1), D(2026, 12, 31), 247),  # 261 weekdays - 14 days off
    ],
)
def test_working_days_between(start, end, count):
    assert working_days_between(start, end) == count
    assert working_days_between(end, start) == -count


def test_working_days_in_2026_matches_weekday_count():
    weekdays = sum(1 for d in _days(D(2026, 1, 1), D(2026, 12, 31)) if d.weekday() < 5)
    kz = holidays.country_holidays("KZ", years=2026)
    weekday_days_off = sum(1 for d in kz if d.weekday() < 5)
    assert working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == weekdays - weekday_days_off


@pytest.mark.parametrize("n", [1, 2, 3, 5, 15, 44])
def test_round_trip_every_day_of_2026(n):
    for start in _days(D(2026, 1, 1), D(2026, 12, 31)):
        due = add_working_days(start, n)
        assert is_working_day(due), (start, n)
        assert working_days_between(start, due) == n, (start, n)
        # due is the *first* date with n working days counted
        assert working_days_between(start, due - timedelta(days=1)) == n - 1, (start, n)


def test_round_trip_negative_from_working_days():
    for start in _days(D(2026, 1, 1), D(2026, 12, 31)):
        if not is_working_day(start):
            continue
        for n in (1, 3, 15):
            back = add_working_days(start, -n)
            assert is_working_day(back)
            assert working_days_between(start, back) == -n, (start, n)


def test_between_is_additive():
    a, b, c = D(2026, 2, 27), D(2026, 3, 24), D(2026, 5, 12)
    assert working_days_between(a, c) == working_days_between(a, b) + working_days_between(b, c)


# -------------------------------------------------------------- overrides


def test_extra_days_off_and_working_days():
    # A hypothetical decree: Fri 20 Mar 2026 off, worked on Sat 14 Mar.
    cal = WorkCalendar(extra_days_off=[D(2026, 3, 20)], extra_working_days=[D(2026, 3, 14)])
    assert cal.is_working_day(D(2026, 3, 14))
    assert not cal.is_working_day(D(2026, 3, 20))
    assert cal.add_working_days(D(2026, 3, 13), 1) == D(2026, 3, 14)
    assert cal.add_working_days(D(2026, 3, 19), 1) == D(2026, 3, 26)
    assert cal.working_days_between(D(2026, 3, 13), D(2026, 3, 26)) == 6  # 14, 16-19, 26
    # the default calendar is unaffected
    assert not KZ_CALENDAR.is_working_day(D(2026, 3, 14))
    assert KZ_CALENDAR.is_working_day(D(2026, 3, 20))


def test_overrides_win_over_package():
    cal = WorkCalendar(extra_days_off=[D(2025, 1, 5)], extra_working_days=[D(2026, 3, 23)])
    assert not cal.is_working_day(D(2025, 1, 5))  # package says worked Sunday
    assert cal.is_working_day(D(2026, 3, 23))  # package says Nauryz
    assert cal.add_working_days(D(2026, 3, 20), 1) == D(2026, 3, 23)


def test_overrides_accept_any_iterable_and_datetimes():
    cal = WorkCalendar(extra_days_off=(d for d in [datetime(2026, 2, 9, 9, 0)]))
    assert not cal.is_working_day(D(2026, 2, 9))
    assert cal.add_working_days(D(2026, 2, 6), 1) == D(2026, 2, 10)


def test_conflicting_overrides_rejected():
    with pytest.raises(ValueError):
        WorkCalendar(extra_days_off=[D(2026, 3, 14)], extra_working_days=[D(2026, 3, 14)])


def test_default_calendar_has_no_overrides():
    assert KZ_CALENDAR.extra_days_off == frozenset()
    assert KZ_CALENDAR.extra_working_days == frozenset()
    assert "WorkCalendar(" in repr(KZ_CALENDAR)


def test_holiday_sets_cached_per_year():
    workdays._kz_year.cache_clear()
    for d in _days(D(2026, 1, 1), D(2026, 12, 31)):
        is_working_day(d)
    info = workdays._kz_year.cache_info()
    assert info.misses == 1
    assert info.hits >= 250


# ---------------------------------------------------------- calendar months


@pytest.mark.parametrize(
    ("day", "months", "result"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 12, 31), 2, D(2027, 2, 28)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 8, 31), 2, D(2026, 10, 31)),
        (D(2026, 4, 30), 2, D(2026, 6, 30)),
        (D(2026, 3, 15), 2, D(2026, 5, 15)),
        (D(2026, 1, 15), 12, D(2027, 1, 15)),
        (D(2026, 1, 15), -13, D(2024, 12, 15)),
        (D(2026, 5, 31), 0, D(2026, 5, 31)),
    ],
)
def test_add_calendar_months(day, months, result):
    assert add_calendar_months(day, months) == result


def test_add_calendar_months_keeps_datetime_time():
    assert add_calendar_months(datetime(2026, 1, 31, 14, 5), 1) == datetime(2026, 2, 28, 14, 5)
