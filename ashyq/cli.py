"""The `civic` command: serve, migrate, load the demo, manage users."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Awaitable, Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ashyq.manifests import build_modules
from ashyq.worker import run_round, schedule_for
from civic.accounts.services import create_api_token, make_admin, normalise_email, user_by_email
from civic.db import migrate as run_migrations
from civic.demo import load_core_demo
from civic.modules import PeriodicJob, enabled_modules
from civic.notify.services import build_daily_digests, deliver_pending_mail
from civic.responses.services import escalate_overdue
from civic.runtime import open_database
from civic.rules import RuleError
from civic.settings import Settings, SettingsError, load_settings
from civic.web.page_cache import mark_changed
from search.backend import SearchUnavailable
from search.service import apply_pending, count_database_documents, index_status, rebuild, worker_backend

console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        # One clear line naming the variable, no traceback.
        click.echo(f"civic: {exc}", err=True)
        sys.exit(2)


def _run(settings: Settings, work: Callable[[], Awaitable]):
    """Check and install the enabled modules' manifests, open the database for them, then run
    `work` in one event loop."""
    os.environ.setdefault("PICCOLO_CONF", "civic.piccolo_conf")
    try:
        modules = build_modules(settings)
    except SettingsError as exc:
        click.echo(f"civic: {exc}", err=True)
        sys.exit(2)
    open_database(settings, modules)
    try:
        return asyncio.run(work())
    finally:  # a command may have written: pages kept by running servers are rendered again
        mark_changed(settings.data_dir)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                    transient=False)


@click.group()
def main() -> None:
    """Ashyq: open participation for akimats."""


@main.command()
def migrate() -> None:
    """Create or update the database tables of the core and every enabled module."""
    settings = _settings()
    with _progress() as progress:
        task = progress.add_task("Applying migrations…", total=None)
        _run(settings, run_migrations)
        progress.update(task, description="Database is up to date.", total=1, completed=1)


@main.command()
def demo() -> None:
    """Load the demo akimat (idempotent: running it again changes nothing)."""
    settings = _settings()

    async def load() -> None:
        await run_migrations()
        with _progress() as progress:
            task = progress.add_task("Loading the demo akimat…", total=None)

            def step(message: str) -> None:
                progress.update(task, description=message)

            await load_core_demo(settings, progress=step)
            for module in enabled_modules(settings):
                if module.load_demo:
                    step(f"Demo data: {module.title}")
                    await module.load_demo(settings, step)
            progress.update(task, description="Demo akimat is ready.", total=1, completed=1)

    _run(settings, load)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, reload: bool) -> None:
    """Serve the web app in one process. To use more cores, run more processes (or replicas)
    behind the reverse proxy: sessions live in cookies, so any process serves anyone.
    (uvicorn's own --workers mode loses TCP_NODELAY and adds ~40 ms per keep-alive request:
    Kludex/uvicorn#3149.)"""
    import uvicorn

    _settings()  # fail early with a clear line on bad settings
    click.echo(f"Ashyq is serving on http://{host}:{port}", err=True)
    uvicorn.run("ashyq.asgi:app", host=host, port=port, reload=reload,
                proxy_headers=True, forwarded_allow_ips="*", log_level="info")


@main.group()
def user() -> None:
    """Manage people's accounts."""


@user.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True)
@click.password_option(prompt="Password (empty: a random one is printed)", default="", show_default=False,
                       confirmation_prompt=False)
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform administrator, or make an existing account one."""
    import secrets

    settings = _settings()
    generated = not password
    password = password or secrets.token_urlsafe(12)

    async def work() -> bool:
        return await make_admin(settings, email=email, display_name=name, password=password)

    try:
        created = _run(settings, work)
    except (ValueError, RuleError) as exc:
        click.echo(f"civic: {exc}", err=True)
        sys.exit(1)
    click.echo(("Created administrator " if created else "Made administrator: ") + email)
    if created and generated:
        click.echo(f"Password: {password}")


@user.command("token")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def token(email: str, name: str) -> None:
    """Print a new personal API token for the account."""
    settings = _settings()

    async def work() -> str | None:
        found = await user_by_email(normalise_email(email))
        if found is None or found["deleted_at"]:
            return None
        return await create_api_token(found["id"], name)

    value = _run(settings, work)
    if value is None:
        click.echo(f"civic: no account with the e-mail {email}", err=True)
        sys.exit(1)
    click.echo(value)


@main.group()
def search() -> None:
    """The search index: rebuild it, see whether it matches the database."""


@search.command("reindex")
@click.option("--batch-size", default=500, show_default=True, type=int, help="Documents per index write.")
def search_reindex(batch_size: int) -> None:
    """Rebuild the search index from every enabled module's public records. Safe while the
    site serves: documents are replaced in place, changes made meanwhile are written again,
    and only what no module offers any more is removed at the end."""
    settings = _settings()

    async def work():
        modules = enabled_modules(settings)
        backend = worker_backend(settings, lock_timeout=120.0)  # waits for the web process's writes
        try:
            await asyncio.to_thread(backend.configure)
        except SearchUnavailable as exc:
            click.echo(f"civic: the search engine is unavailable: {exc}", err=True)
            sys.exit(1)
        stages = {"snapshot": "Reading the index…", "index": "Indexing documents…",
                  "recheck": "Writing again what changed meanwhile…", "remove": "Removing stale documents…",
                  "outbox": "Applying waiting changes…"}
        try:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as progress:
                counting = progress.add_task("Counting public documents…", total=None)
                total = sum((await count_database_documents(modules)).values())
                progress.update(counting, total=1, completed=1, visible=False)
                task = progress.add_task("Indexing documents…", total=total)
                report = await rebuild(
                    backend, modules, batch_size=batch_size,
                    progress=lambda n: progress.advance(task, n),
                    stage=lambda name: progress.update(task, description=stages.get(name, name)),
                )
                done = max(total, report.total)
                progress.update(task, description="Done.", completed=done, total=done)
        except SearchUnavailable as exc:
            click.echo(f"civic: the search engine stopped answering: {exc}; run the command again", err=True)
            sys.exit(1)
        finally:
            backend.close()
        return report

    report = _run(settings, work)
    for slug, count in report.indexed.items():
        click.echo(f"{slug}: {count} document(s)")
    in_index = "?" if report.in_index is None else report.in_index
    click.echo(f"Indexed {report.total} document(s); written again after a change meanwhile: "
               f"{report.updated_meanwhile}; removed {report.removed} stale; applied {report.outbox_applied} "
               f"waiting change(s). The index holds {in_index}.")


@search.command("status")
def search_status() -> None:
    """Documents in the database against documents in the index, and the outbox (exit status 1
    when they differ)."""
    settings = _settings()

    async def work():
        backend = worker_backend(settings)
        try:
            return await index_status(backend, enabled_modules(settings), entries=10)
        finally:
            backend.close()

    status = _run(settings, work)
    click.echo(f"Engine: {status.engine} ({'answering' if status.healthy else 'NOT answering'})")
    for slug, count in status.database.items():
        click.echo(f"  {slug}: {count} public document(s)")
    unknown = "?"
    click.echo(f"In the database: {status.in_database}; "
               f"in the index: {unknown if status.in_index is None else status.in_index}; "
               f"missing: {unknown if status.missing is None else status.missing}; "
               f"stale: {unknown if status.stale is None else status.stale}")
    click.echo(f"Waiting in the outbox: {status.pending}")
    for entry in status.pending_entries:
        click.echo(f"  {entry['document_id']} {entry['action']} attempts={entry['attempts']} "
                   f"{(entry['last_error'] or '')[:120]}")
    if status.error:
        click.echo(f"Engine error: {status.error}")
    if not status.in_step:
        sys.exit(1)


@main.command("send-mail")
@click.option("--digests", is_flag=True, help="Also build the daily digests.")
def send_mail(digests: bool) -> None:
    """Send queued mail (and daily digests); run from cron."""
    settings = _settings()

    async def work() -> int:
        if digests:
            await build_daily_digests()
            await escalate_overdue()
        return await deliver_pending_mail(settings)

    click.echo(f"Sent {_run(settings, work)} mail(s).")


@main.command()
@click.option("--interval", default=60, show_default=True, type=int, help="Seconds between mail runs.")
@click.option("--digest-hour", default=8, show_default=True, type=int, help="Local hour (Asia/Almaty) of the daily digest.")
def worker(interval: int, digest_hour: int) -> None:
    """Background jobs in one process: send queued mail (and retry failures), escalate overdue
    answers, build daily digests, and apply search changes still waiting in the outbox. Run
    exactly one per site."""
    settings = _settings()

    async def loop() -> None:
        search_backend = worker_backend(settings)

        async def apply_search_outbox() -> int:
            """Search changes the web process could not apply (engine down, writer busy)."""
            return await apply_pending(search_backend)

        schedule = schedule_for(settings, build_modules(settings), digest_hour=digest_hour,
                                extra=[PeriodicJob("search.apply_outbox", 0, apply_search_outbox, with_settings=False)])
        while True:
            results = await run_round(settings, schedule)
            for name, result in results.items():
                if result:
                    console.log(f"{name}: {result}")
            await asyncio.sleep(interval)

    click.echo("Ashyq worker started", err=True)
    _run(settings, loop)


if __name__ == "__main__":
    main()
