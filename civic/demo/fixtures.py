"""Reading the demo fixtures: the YAML files under the top-level fixtures/ directory.

A fixture is plain data. Three kinds of value are resolved here, so every loader reads them the
same way:

* relative times, so the demo stays current: ``-12d`` is twelve days before now (or today),
  ``+3d`` three days after, ``-2h`` / ``+30m`` hours and minutes, ``0d`` now; a bare number
  is a number of days;
* references by stable keys: a territory by its code, an organisation by its slug, a person by
  e-mail, where the demo domain may be left off (``bolat.citizen``);
* nothing else: generated parts (hundreds of supports or signatures) are stated as a rule in the
  fixture (a count and a seed) and made by the module's loader.

The directory is ``fixtures/`` beside the ``civic`` package (the source tree, or /app in the
image); CIVIC_FIXTURES_DIR overrides it.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import yaml

_RELATIVE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def fixtures_dir() -> Path:
    configured = os.environ.get("CIVIC_FIXTURES_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "fixtures"


@cache
def fixture(name: str) -> dict:
    """The parsed fixture ``fixtures/<name>.yaml`` (read once per process; treat it as read-only)."""
    path = fixtures_dir() / f"{name}.yaml"
    with path.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a fixture is a mapping at the top level")
    return data


def offset(value: str | int | float) -> timedelta:
    """``-12d`` → 12 days back; ``+3d``, ``-2h``, ``+30m``; a bare number is days."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(days=value)
    match = _RELATIVE.match(str(value))
    if not match:
        raise ValueError(f"not a relative time (like -12d, +3d, -2h): {value!r}")
    number, unit = match.groups()
    return timedelta(**{_UNITS[unit]: float(number)})


def days(value: str | int | float) -> float:
    """A relative time in days, signed: ``-12d`` → -12.0."""
    return offset(value) / timedelta(days=1)


def days_ago(value: str | int | float) -> float:
    """How long before now a relative time lies: ``-12d`` → 12 (an int when whole)."""
    ago = -days(value)
    return int(ago) if ago == int(ago) else ago


def moment(value: str | int | float, now: datetime | None = None) -> datetime:
    """The instant a relative time names, from ``now`` (default: the current UTC time)."""
    return (now or datetime.now(timezone.utc)) + offset(value)


def day(value: str | int | float, today: date) -> date:
    """The date a relative time in whole days names, from ``today``."""
    return today + timedelta(days=round(days(value)))


def email(reference: str, domain: str | None = None) -> str:
    """A person's e-mail from a reference: a full address, or a local part in the demo domain."""
    if "@" in reference:
        return reference
    return f"{reference}@{domain or fixture('core')['email_domain']}"
