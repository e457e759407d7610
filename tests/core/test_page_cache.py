"""Anonymous pages kept in memory (civic.web.page_cache): served again only while nothing has
changed, never to a signed-in person, and always with the visitor's own CSRF token."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from litestar import Request, Response, Router, get, post
from litestar.response import Redirect

from civic.modules import CivicModule
from civic.web.page_cache import mark_changed
from civic.web.pages import page
from tests.support.web import make_user, sign_in, unique_email

PASSWORD = "correct horse battery"
board = {"notice": "first notice", "renders": 0}


@get("/probe")
async def probe_page(request: Request) -> Response:
    board["renders"] += 1
    return page(request, "core/error.html", {"title": "Probe", "message": board["notice"], "status_code": 200})


@post("/probe")
async def probe_change(request: Request) -> Redirect:
    form = await request.form()
    board["notice"] = form.get("notice", "")
    return Redirect("/probe", status_code=303)


PROBE = CivicModule(slug="probe", title="Probe",
                    router=lambda: Router(path="/", route_handlers=[probe_page, probe_change]))


@pytest.fixture
async def cached_app(settings, database, tmp_path):
    from ashyq.app import create_app

    board.update(notice="first notice", renders=0)
    return create_app(settings.with_changes(page_cache_seconds=30, data_dir=tmp_path), extra_modules=(PROBE,))


def visitor(app, language: str = "en") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 4000)),
                             base_url="http://testserver", headers={"accept-language": language})


def token_in(html: str) -> str:
    return re.search(r'"x-csrftoken": "([^"]+)"', html).group(1)


async def test_a_page_is_rendered_once_for_many_visitors(cached_app):
    async with visitor(cached_app) as first, visitor(cached_app) as second:
        pages = [await first.get("/probe"), await second.get("/probe"), await first.get("/probe")]
    assert all(p.status_code == 200 and "first notice" in p.text for p in pages)
    assert board["renders"] == 1
    # each visitor gets a page with their own CSRF token, matching their own cookie
    first_token, second_token = token_in(pages[0].text), token_in(pages[1].text)
    assert first_token != second_token
    assert pages[1].cookies.get("ashyq_csrf") == second_token
    assert token_in(pages[2].text) == first_token
    assert pages[1].headers["content-security-policy"]  # security headers on kept pages too
    assert int(pages[1].headers["content-length"]) == len(pages[1].content)


async def test_a_write_shows_at_once(cached_app):
    async with visitor(cached_app) as reader, visitor(cached_app) as writer:
        assert "first notice" in (await reader.get("/probe")).text
        form_page = await writer.get("/probe")  # served from memory, with the writer's token
        response = await writer.post("/probe", data={"notice": "second notice",
                                                     "_csrf_token": token_in(form_page.text)})
        assert response.status_code == 303  # the kept page's token works for its visitor
        assert "second notice" in (await reader.get("/probe")).text


async def test_a_write_outside_a_request_shows_too(cached_app, settings, tmp_path):
    async with visitor(cached_app) as reader:
        await reader.get("/probe")
        board["notice"] = "written by the worker"
        assert "first notice" in (await reader.get("/probe")).text  # nothing said it changed
        mark_changed(tmp_path)  # what civic worker and the CLI do after writing
        assert "written by the worker" in (await reader.get("/probe")).text


async def test_kept_pages_expire(cached_app):
    middleware_seconds = 30
    async with visitor(cached_app) as reader:
        await reader.get("/probe")
        board["notice"] = "changed with the clock"
        assert board["renders"] == 1
        real = time.monotonic
        try:
            time.monotonic = lambda: real() + middleware_seconds + 1  # noqa: the clock is ours
            assert "changed with the clock" in (await reader.get("/probe")).text
        finally:
            time.monotonic = real


async def test_languages_are_kept_apart(cached_app):
    async with visitor(cached_app, "kk") as kazakh, visitor(cached_app, "ru") as russian:
        kk, ru = await kazakh.get("/probe"), await russian.get("/probe")
    assert kk.headers["content-language"] == "kk" and ru.headers["content-language"] == "ru"
    assert '<html lang="kk"' in kk.text and '<html lang="ru"' in ru.text


async def test_signed_in_people_and_fragments_always_get_a_fresh_page(cached_app):
    email = unique_email("cache")
    await make_user(email, name="Aigerim Cached", password=PASSWORD)
    async with visitor(cached_app) as anonymous, visitor(cached_app) as person:
        await sign_in(person, email, PASSWORD)
        await anonymous.get("/probe")
        renders = board["renders"]
        signed_in = await person.get("/probe")
        assert "Aigerim Cached" in signed_in.text and board["renders"] == renders + 1
        assert "Aigerim Cached" not in (await anonymous.get("/probe")).text
        await anonymous.get("/probe", headers={"hx-request": "true"})
        assert board["renders"] == renders + 2


async def test_errors_are_not_kept(cached_app):
    async with visitor(cached_app) as reader:
        assert (await reader.get("/no-such-page")).status_code == 404
        assert (await reader.get("/no-such-page")).status_code == 404


def test_the_setting_is_checked():
    from civic.settings import SettingsError, load_settings

    for bad in ("-1", "soon", "99999"):
        with pytest.raises(SettingsError, match="CIVIC_PAGE_CACHE_SECONDS"):
            load_settings({"CIVIC_DATA_DIR": "/tmp/ashyq-settings-check", "CIVIC_PAGE_CACHE_SECONDS": bad,
                           "CIVIC_SECRET_KEY": "x" * 40})


async def test_memory_stays_within_its_budget(cached_app, monkeypatch):
    from civic.web import page_cache

    monkeypatch.setattr(page_cache, "MAX_TOTAL_BYTES", 1)  # no page fits: each is dropped at once
    async with visitor(cached_app) as reader:
        await reader.get("/probe")
        await reader.get("/probe")
    assert board["renders"] == 2
