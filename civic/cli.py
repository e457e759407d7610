"""The `civic` command: serve, migrate, load the demo, manage users."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Awaitable, Callable

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from civic.settings import Settings, SettingsError, load_settings

console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        # One clear line naming the variable, no traceback.
        click.echo(f"civic: {exc}", err=True)
        sys.exit(2)


def _run(settings: Settings, work: Callable[[], Awaitable]):
    """Open the database for the enabled modules, then run `work` in one event loop."""
    from civic.runtime import open_database

    os.environ.setdefault("PICCOLO_CONF", "civic.piccolo_conf")
    open_database(settings)
    return asyncio.run(work())


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                    transient=False)


@click.group()
def main() -> None:
    """Ashyq: open participation for akimats."""


@main.command()
def migrate() -> None:
    """Create or update the database tables of the core and every enabled module."""
    from civic.db import migrate as run_migrations

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
        from civic.db import migrate as run_migrations
        from civic.demo import load_core_demo
        from civic.modules import enabled_modules

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
    uvicorn.run("civic.asgi:app", host=host, port=port, reload=reload,
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
        from civic.accounts.services import make_admin

        return await make_admin(settings, email=email, display_name=name, password=password)

    from civic.accounts.services import AccountError

    try:
        created = _run(settings, work)
    except (ValueError, AccountError) as exc:
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
        from civic.accounts.services import create_api_token, normalise_email, user_by_email

        found = await user_by_email(normalise_email(email))
        if found is None or found["deleted_at"]:
            return None
        return await create_api_token(found["id"], name)

    value = _run(settings, work)
    if value is None:
        click.echo(f"civic: no account with the e-mail {email}", err=True)
        sys.exit(1)
    click.echo(value)


@main.command("send-mail")
@click.option("--digests", is_flag=True, help="Also build the daily digests.")
def send_mail(digests: bool) -> None:
    """Send queued mail (and daily digests); run from cron."""
    settings = _settings()

    async def work() -> int:
        from civic.notify.services import build_daily_digests, deliver_pending_mail
        from civic.responses.services import escalate_overdue

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
    answers, and build daily digests. Run exactly one per site."""
    settings = _settings()

    async def loop() -> None:
        from civic.modules import enabled_modules
        from civic.worker import run_round, schedule_for

        schedule = schedule_for(settings, enabled_modules(settings), digest_hour=digest_hour)
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
