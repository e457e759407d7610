"""`civic worker` rounds: due jobs run, others wait their turn, a failing job does not stop
the rest, and mail queued by a job goes out in the same round."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from civic.modules import CivicModule, PeriodicJob
from civic.notify.services import queue_mail
from civic.notify.tables import OutgoingMail
from ashyq.worker import ALMATY, run_round, schedule_for

calls: list[str] = []


async def _reminders(settings) -> int:
    calls.append("reminders")
    await queue_mail("reminded@example.kz", "Reminder", "Your reception is tomorrow.")
    return 1


async def _broken(settings) -> int:
    calls.append("broken")
    raise RuntimeError("boom")


JOBS_MODULE = CivicModule(slug="jobs", title="Jobs", periodic_jobs=(PeriodicJob("reminders", 3600, _reminders),
                                                                      PeriodicJob("broken", 60, _broken)))


async def test_rounds_run_due_jobs_and_survive_failures(settings, database):
    calls.clear()
    settings = dataclasses.replace(settings, smtp_url=None)
    schedule = schedule_for(settings, [JOBS_MODULE], digest_hour=8)
    morning = datetime(2026, 11, 24, 9, 0, tzinfo=ALMATY)
    results = await run_round(settings, schedule, now=morning)
    assert calls == ["reminders", "broken"]
    assert results["jobs.reminders"] == 1 and "boom" in results["jobs.broken"]
    assert "notify.daily_digests" in results
    mail = await OutgoingMail.select().where(OutgoingMail.to_address == "reminded@example.kz").first()
    assert mail["sent_at"] is not None  # delivered in the same round, to the outbox folder

    calls.clear()
    results = await run_round(settings, schedule, now=morning + timedelta(minutes=2))
    assert calls == ["broken"]  # reminders run hourly; broken every minute
    assert "notify.daily_digests" not in results  # once a day

    calls.clear()
    await run_round(settings, schedule, now=morning + timedelta(hours=1, minutes=1))
    assert calls == ["reminders", "broken"]


async def test_digest_waits_for_its_hour(settings, database):
    schedule = schedule_for(settings, [], digest_hour=8)
    results = await run_round(settings, schedule, now=datetime(2026, 11, 25, 6, 0, tzinfo=ALMATY))
    assert "notify.daily_digests" not in results
    results = await run_round(settings, schedule, now=datetime(2026, 11, 25, 8, 5, tzinfo=ALMATY))
    assert "notify.daily_digests" in results
