"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by headless Chromium.

The server runs in a background thread with its own event loop, on the same test database
as the rest of the suite (SQLite in a temp folder, or the PostgreSQL server named by
CIVIC_DATABASE_URL). Piccolo's engines open a connection per query when no pool is started
(aiosqlite, and asyncpg without `start_connection_pool`), so one engine serves both the
test loop and the server loop; a pool would be bound to one loop, hence the check below.

Chromium is the Debian one at /usr/bin/chromium: Playwright never downloads a browser here.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CIVIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _close_loop_connections() -> None:
    """An engine that keeps a read connection per event loop (civic.db) must not keep the
    server loop's one open after the loop ends: its worker thread would outlive the tests."""
    from civic.runtime import current_engine

    connections = getattr(current_engine(), "_read_connections", None)
    if isinstance(connections, dict):
        connection = connections.pop(id(asyncio.get_running_loop()), None)
        if connection is not None:
            await connection.close()


class LiveServer:
    """uvicorn serving `app` in a thread with its own event loop."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # lifespan off: the app's start-up would open a PostgreSQL pool bound to this server's
        # loop, and the tests' own loop shares the engine.
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off",
                                access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="ashyq-live-server", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by start()
            self.error = exc

    async def _serve(self) -> None:
        try:
            await self.server.serve()
        finally:
            await _close_loop_connections()

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if self.error or not self.thread.is_alive():
                raise RuntimeError(f"the live server did not start: {self.error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("the live server did not start within 15 s")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
async def live_server(settings, database):
    from ashyq.app import create_app
    from civic.demo import load_core_demo

    if getattr(database, "pool", None) is not None:  # a pool is bound to the loop that opened it
        pytest.fail("browser tests need an engine without a connection pool (one per event loop)")
    await load_core_demo(settings)
    from tests.support import sample_module

    # the test-only "sample" module is on too, so search tests have an enabled module to
    # index documents for, whichever real modules this checkout has
    server = LiveServer(create_app(settings, extra_modules=(sample_module.module,)))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
async def new_context(browser, live_server):
    """Make browser contexts (separate cookie jars) that are closed after the test.
    English Accept-Language, so a visitor without a language cookie reads English."""
    contexts = []

    async def make(**options):
        options.setdefault("base_url", live_server.url)
        options.setdefault("locale", "en-US")
        context = await browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_context):
    context = await new_context()
    return await context.new_page()
