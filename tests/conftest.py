"""One database per test run, migrated once: SQLite in a temp folder, or the PostgreSQL
server named by CIVIC_DATABASE_URL (tests/support/postgres.py starts one for `make test`)."""

from __future__ import annotations

import os
import tempfile

_data_dir = tempfile.mkdtemp(prefix="ashyq-test-")
os.environ["CIVIC_DATA_DIR"] = _data_dir
os.environ.setdefault("CIVIC_SECRET_KEY", "test-secret-key-that-is-long-enough-for-aes-0123456789")
os.environ["CIVIC_PASSWORD_HASH_PROFILE"] = "cheapest"
os.environ["CIVIC_RATE_LIMITS"] = "on"
os.environ.setdefault("CIVIC_PAGE_CACHE_SECONDS", "0")  # tests that read right after a direct write; tests/core/test_page_cache.py turns it on
os.environ["PICCOLO_CONF"] = "civic.piccolo_conf"

import pytest  # noqa: E402

from civic.settings import load_settings  # noqa: E402


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
async def database(settings):
    from ashyq.manifests import build_modules
    from civic.db import migrate
    from civic.runtime import open_database

    # as the composition root does: the enabled manifests, checked and installed (hooks, topics, roles)
    engine = open_database(settings, build_modules(settings))
    await migrate()
    yield engine
    if hasattr(engine, "close_read_connections"):
        await engine.close_read_connections()


@pytest.fixture(scope="session")
async def app(settings, database):
    from ashyq.app import create_app

    return create_app(settings)


@pytest.fixture
async def client(app):
    """A browser-like client; each test comes from its own address, so per-address rate
    limits of one test do not leak into the next."""
    import random

    import httpx

    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False,
                                 headers={"accept-language": "en"}) as client:  # tests read English text
        yield client
