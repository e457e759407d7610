"""Background work for one process per site (`civic worker`): the core's jobs and every
enabled module's periodic jobs, each on its own schedule. One failing job never stops the
others; a round never raises."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

from civic.modules import CivicModule
from civic.settings import Settings

log = logging.getLogger(__name__)
ALMATY = ZoneInfo("Asia/Almaty")
ESCALATION_EVERY = 900  # seconds


@dataclass
class Job:
    name: str
    every: int  # seconds
    run: Callable[[Settings], Awaitable[Any]]


@dataclass
class Schedule:
    jobs: list[Job]
    digest_hour: int = 8
    last_run: dict[str, datetime] = field(default_factory=dict)
    last_digest_day: date | None = None


async def _escalate(settings: Settings) -> int:
    from civic.responses.services import escalate_overdue

    return await escalate_overdue()


async def _deliver(settings: Settings) -> int:
    from civic.notify.services import deliver_pending_mail

    return await deliver_pending_mail(settings)


def schedule_for(settings: Settings, modules: list[CivicModule], digest_hour: int = 8,
                 extra: list[Job] | None = None) -> Schedule:
    jobs = [Job("responses.escalate_overdue", ESCALATION_EVERY, _escalate)]
    jobs += [Job(f"{m.slug}.{name}", every, job) for m in modules for name, every, job in m.periodic_jobs]
    jobs += list(extra or [])
    jobs.append(Job("notify.deliver_mail", 0, _deliver))  # last: sends what the others queued
    return Schedule(jobs=jobs, digest_hour=digest_hour)


async def run_round(settings: Settings, schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    """Run every job that is due; returns {job name: result or the error's repr}."""
    from civic.notify.services import build_daily_digests

    now = now or datetime.now(ALMATY)
    results: dict[str, Any] = {}
    if now.hour >= schedule.digest_hour and schedule.last_digest_day != now.date():
        try:
            results["notify.daily_digests"] = await build_daily_digests()
            schedule.last_digest_day = now.date()
        except Exception as exc:
            log.exception("daily digests failed")
            results["notify.daily_digests"] = repr(exc)
    for job in schedule.jobs:
        last = schedule.last_run.get(job.name)
        if last is not None and (now - last).total_seconds() < job.every:
            continue
        schedule.last_run[job.name] = now
        try:
            results[job.name] = await job.run(settings)
        except Exception as exc:
            log.exception("job %s failed", job.name)
            results[job.name] = repr(exc)
    if any(value for value in results.values()):  # something was written: pages may differ now
        from civic.web.page_cache import mark_changed

        mark_changed(settings.data_dir)
    return results
