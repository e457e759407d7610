"""Background work for one process per site (`civic worker`): the core's jobs and every
enabled module's periodic jobs, each on its own schedule. Every job is one
:class:`civic.modules.PeriodicJob` — the core's below, the modules' from their manifests, the
composition root's own (the search outbox, in ashyq.cli). One failing job never stops the
others; a round never raises."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from civic.modules import CivicModule, PeriodicJob
from civic.notify.services import build_daily_digests, deliver_pending_mail
from civic.responses.services import escalate_overdue
from civic.settings import Settings
from civic.web.page_cache import mark_changed

log = logging.getLogger(__name__)
ALMATY = ZoneInfo("Asia/Almaty")
ESCALATION_EVERY = 900  # seconds

@dataclass
class Schedule:
    jobs: list[PeriodicJob]
    last_run: dict[str, datetime] = field(default_factory=dict)  # interval jobs: when they last started
    last_day: dict[str, date] = field(default_factory=dict)  # daily jobs: the day they last succeeded


def core_jobs(digest_hour: int = 8) -> tuple[list[PeriodicJob], list[PeriodicJob]]:
    """The core's own jobs: (those that run first, those that run last)."""
    first = [PeriodicJob("notify.daily_digests", 0, build_daily_digests, at_hour=digest_hour, with_settings=False),
             PeriodicJob("responses.escalate_overdue", ESCALATION_EVERY, escalate_overdue, with_settings=False)]
    last = [PeriodicJob("notify.deliver_mail", 0, deliver_pending_mail)]  # sends what the others queued
    return first, last


def schedule_for(settings: Settings, modules: list[CivicModule], digest_hour: int = 8,
                 extra: list[PeriodicJob] | None = None) -> Schedule:
    first, last = core_jobs(digest_hour)
    jobs = first + [job._replace(name=f"{m.slug}.{job.name}") for m in modules for job in m.periodic_jobs]
    jobs += list(extra or []) + last
    return Schedule(jobs=jobs)


def _due(schedule: Schedule, job: PeriodicJob, now: datetime) -> bool:
    if job.at_hour is not None:
        return now.hour >= job.at_hour and schedule.last_day.get(job.name) != now.date()
    last = schedule.last_run.get(job.name)
    return last is None or (now - last).total_seconds() >= job.every_seconds


async def run_round(settings: Settings, schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    """Run every job that is due; returns {job name: result or the error's repr}. An interval
    job waits its interval even after failing; a daily job is tried again next round until it
    succeeds."""
    now = now or datetime.now(ALMATY)
    results: dict[str, Any] = {}
    for job in schedule.jobs:
        if not _due(schedule, job, now):
            continue
        if job.at_hour is None:
            schedule.last_run[job.name] = now
        try:
            results[job.name] = await job(settings)
        except Exception as exc:
            log.exception("job %s failed", job.name)
            results[job.name] = repr(exc)
            continue
        if job.at_hour is not None:
            schedule.last_day[job.name] = now.date()
    if any(value for value in results.values()):  # something was written: pages may differ now
        mark_changed(settings.data_dir)
    return results
