"""The one refusal handler (civic.web.refusals): a route raises a civic.rules refusal and the app
answers it as JSON under /api/, as an htmx fragment, or as a page — in the reader's language.

The routes belong to a small test-only module, so no real module's rules are involved.
"""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest
from litestar import Router, get
from litestar.params import FromPath

from ashyq.app import create_app
from civic.i18n.runtime import N_, set_language, translator
from civic.modules import CivicModule
from civic.rules import Denied, NotFound, RuleError, TooMany
from civic.web.refusals import rule_error_handler

REFUSALS = {
    "rule": (RuleError, N_("This response is already answered or closed."), 400),
    "denied": (Denied, N_("You are not allowed to act on this response."), 403),
    "missing": (NotFound, N_("This response does not exist."), 404),
    "limit": (TooMany, N_("You have filed many appeals in a short time. Please wait and try again later."), 429),
}
FIELD = "answer"


def _refuse(kind: str):
    cls, msgid, _status = REFUSALS[kind]
    raise cls(msgid, FIELD)


@get("/refusals/{kind:str}")
async def refusal_page(kind: FromPath[str]) -> str:
    _refuse(kind)
    return "never"


@get("/refusals/{kind:str}/count")
async def refusal_with_params(kind: FromPath[str]) -> str:
    raise RuleError(N_("%(count)s receptions are published."), count=3)


@get("/api/v1/refusals/{kind:str}")
async def refusal_api(kind: FromPath[str]) -> dict:
    _refuse(kind)
    return {}


MODULE = CivicModule(slug="refusals", title="Ideas",
                     router=lambda: Router(path="/", route_handlers=[refusal_page, refusal_with_params]),
                     api_router=lambda: Router(path="/", route_handlers=[refusal_api]))


@pytest.fixture(scope="module")
def refusal_app(settings, database):
    return create_app(dataclasses.replace(settings, modules=("refusals",)), extra_modules=(MODULE,))


def _client(app, language: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(f"10.8.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}",
                                                     4000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False,
                             headers={"accept-language": language})


def _in(language: str, msgid: str) -> str:
    return translator(language).gettext(msgid)


LANGUAGES = ("kk", "ru", "en")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(REFUSALS))
async def test_api_answers_json_with_the_translated_detail_and_the_field(refusal_app, kind, language):
    _cls, msgid, status = REFUSALS[kind]
    async with _client(refusal_app, language) as client:
        response = await client.get(f"/api/v1/refusals/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status_code": status, "detail": _in(language, msgid), "field": FIELD}
    if language != "en":
        assert response.json()["detail"] != msgid  # really translated


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(REFUSALS))
async def test_htmx_gets_a_fragment_with_the_message_and_the_status(refusal_app, kind, language):
    _cls, msgid, status = REFUSALS[kind]
    async with _client(refusal_app, language) as client:
        response = await client.get(f"/refusals/{kind}", headers={"hx-request": "true"})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert html.startswith("<div") and 'role="alert"' in html and "<html" not in html
    message = _in(language, msgid).replace("'", "&#39;").replace('"', "&#34;")
    assert message in html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(REFUSALS))
async def test_a_page_request_gets_the_error_page(refusal_app, kind, language):
    _cls, msgid, status = REFUSALS[kind]
    async with _client(refusal_app, language) as client:
        response = await client.get(f"/refusals/{kind}")
    assert response.status_code == status
    html = response.text
    assert "<html" in html and f'lang="{language}"' in html
    if kind == "missing":  # the usual 404 page
        assert _in(language, "Page not found") in html
        assert _in(language, "There is no page at this address. It may have moved.") in html
        return
    title = "Access denied" if status == 403 else "This could not be done"
    assert f"<h1>{_in(language, title)}</h1>" in html
    assert _in(language, msgid).replace("'", "&#39;") in html


async def test_a_boosted_htmx_request_gets_the_whole_page(refusal_app):
    async with _client(refusal_app, "en") as client:
        response = await client.get("/refusals/denied", headers={"hx-request": "true", "hx-boosted": "true"})
    assert response.status_code == 403 and "<html" in response.text and "<h1>Access denied</h1>" in response.text


async def test_parameters_fill_the_translated_message(refusal_app):
    for language in LANGUAGES:
        async with _client(refusal_app, language) as client:
            response = await client.get("/refusals/rule/count", headers={"hx-request": "true"})
        assert response.status_code == 400
        assert _in(language, "%(count)s receptions are published.") % {"count": 3} in response.text


async def test_a_refusal_with_extra_data_carries_it_in_json(refusal_app):
    """A refusal may carry ``extra`` (the appeal already filed): the API answer includes it."""

    class Blocked(RuleError):
        status_code = 409

        def __init__(self) -> None:
            super().__init__(N_("This response does not exist."))
            self.extra = {"existing": "ALM-2026-000001"}

    class FakeUrl:
        path = "/api/v1/anything"

    class FakeRequest:
        url = FakeUrl()
        headers: dict = {}

    set_language("en")
    response = rule_error_handler(FakeRequest(), Blocked())
    assert response.status_code == 409
    assert response.content == {"status_code": 409, "detail": "This response does not exist.", "field": "__all__",
                                 "existing": "ALM-2026-000001"}
