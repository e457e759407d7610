"""The module contract: a module switched off in settings leaves no trace, and every
remaining page still works."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from ashyq.app import create_app
from civic.modules import enabled_modules
from civic.settings import SettingsError
from tests.support import sample_module


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _plain_get_paths(app) -> list[str]:
    """Every page address without path parameters."""
    paths = set()
    for route in app.routes:
        if "{" in route.path or route.path.startswith("/static") or route.path.startswith("/schema/"):
            continue
        if "GET" in getattr(route, "methods", set()):
            paths.add(route.path)
    return sorted(paths)


async def test_enabled_module_appears_in_navigation_pages_and_api(settings, database):
    app = create_app(dataclasses.replace(settings, modules=("sample",)), extra_modules=(sample_module.module,))
    async with _client(app) as client:
        home = await client.get("/")
        assert 'href="/sample"' in home.text
        assert (await client.get("/sample")).status_code == 200
        assert (await client.get("/api/v1/sample")).json() == {"sample": True}
        spec = (await client.get("/schema/openapi.json")).json()
        assert "/api/v1/sample" in spec["paths"]


async def test_module_switched_off_leaves_no_trace_and_the_rest_works(settings, database):
    app = create_app(dataclasses.replace(settings, modules=()), extra_modules=(sample_module.module,))
    async with _client(app) as client:
        home = await client.get("/")
        assert home.status_code == 200 and 'href="/sample"' not in home.text
        assert (await client.get("/sample")).status_code == 404
        assert (await client.get("/api/v1/sample")).status_code == 404
        assert "/api/v1/sample" not in (await client.get("/schema/openapi.json")).json()["paths"]
        paths = _plain_get_paths(app)
        assert "/" in paths and "/organisations" in paths
        for path in paths:
            response = await client.get(path)
            allowed = (200, 401) if path.startswith("/api/") else (200, 303)  # public reads, or a token asked for
            if path.startswith("/auth/oidc/"):
                allowed = (404,)  # no identity provider configured in this run: sign-in through it is off
            assert response.status_code in allowed, (path, response.status_code)


def test_unknown_module_in_settings_is_a_clear_error(settings):
    with pytest.raises(SettingsError, match="CIVIC_MODULES: unknown module 'nonexistent'"):
        enabled_modules(dataclasses.replace(settings, modules=("nonexistent",)))


async def test_an_id_no_row_can_have_is_not_found_on_every_route(client):
    """Ids are 32-bit on PostgreSQL: a bigger number in a path is "not found", never a 500."""
    for path in ("/ideas/99999999999", "/appeals/receptions/4294967296"):
        response = await client.get(path)
        assert response.status_code == 404, (path, response.status_code)
