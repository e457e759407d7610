"""The search page in a real browser: the header box, results as you type (htmx), the plain form
without JavaScript, and axe-core in every language and script, with results and without."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from search.documents import Document
from tests.browser.helpers import (
    LANGUAGE_SWITCHES, axe_violations, format_violations, navigating, path_of, sign_in, switch_language,
)

pytestmark = pytest.mark.browser

EXPECTED_LANG = {"kk": "kk", "ru": "ru", "en": "en", "latn": "kk-Latn"}
ADMIN = f"admin@{DEMO_EMAIL_DOMAIN}"


def made_up_word() -> str:
    letters = "bdfgklmnprstvz"
    return "saia" + "".join(letters[int(c, 16) % len(letters)] for c in uuid.uuid4().hex[:6])


@pytest.fixture(scope="module")
async def indexed(live_server):
    """Public documents of the test-only sample module in the live app's index: one word shared by 25 of
    them (two pages of results), in Kazakh and Russian, across two districts and two years."""
    w = made_up_word()
    documents = [
        Document(id=f"sample:browser-{w}-{i}", module="sample", kind="sample",
                 title=[f"Саябақтағы {w} жөндеу {i}", f"Ремонт {w} в парке {i}"][i % 2],
                 body=[f"Қала тұрғындары {w} туралы өтінеді.", f"Жители просят починить {w} у входа."][i % 2],
                 territory=["/kz/almaty/bostandyk/", "/kz/almaty/medeu/"][i % 2], organisation="almaty-akimat",
                 status=["published", "under_review"][i % 2], level="consult", lang=["kk", "ru"][i % 2],
                 created_at=datetime(2024 + i % 2, 3, 1 + i, tzinfo=timezone.utc), url="/sample")
        for i in range(25)
    ]
    backend = live_server.server.config.app.state.search
    await asyncio.to_thread(backend.index, documents)
    yield w
    await asyncio.to_thread(backend.delete, [d.id for d in documents])


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def test_header_box_then_results_as_you_type(page, indexed):
    await page.goto("/")
    await page.fill("#header-q", indexed)
    await navigating(page, page.press("#header-q", "Enter"))
    assert path_of(page) == "/search" and query_of(page.url)["q"] == [indexed]
    assert "25 results" in await page.locator(".search-count").inner_text()
    assert await page.locator(".search-hit mark").count() > 0

    # typing in the page's box updates the results region in place (htmx) and the address
    await page.evaluate("window.stayedOnThePage = true")
    await page.fill("#search-q", "")
    await page.locator("#search-q").press_sequentially(f"{indexed} жөндеу", delay=20)
    await page.wait_for_function(
        "([q]) => new URLSearchParams(location.search).get('q') === q"
        " && document.querySelector('.search-count').innerText.includes('13')", arg=[f"{indexed} жөндеу"])
    assert await page.evaluate("window.stayedOnThePage === true")  # no page load
    assert query_of(page.url)["q"] == [f"{indexed} жөндеу"]  # hx-push-url
    assert await page.locator("#search-results").get_attribute("aria-live") == "polite"
    assert await page.locator("#search-q").evaluate("e => e === document.activeElement")  # focus stays

    # the order select updates in place too, keeping the words
    await page.select_option("#search-sort", "oldest")
    await page.wait_for_function("() => location.search.includes('sort=oldest')")
    assert query_of(page.url)["q"] == [f"{indexed} жөндеу"]
    assert await page.evaluate("window.stayedOnThePage === true")


async def test_search_works_without_javascript(new_context, indexed):
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto("/search")
    await page.fill("#search-q", indexed)
    await navigating(page, page.click("#search-form button[type=submit]"))
    assert "25 results" in await page.locator(".search-count").inner_text()
    # a facet is a plain link that keeps the words
    await navigating(page, page.locator(".facet-link", has_text="Medeu district").click())
    assert query_of(page.url)["territory"] == ["/kz/almaty/medeu/"] and query_of(page.url)["q"] == [indexed]
    assert "12 results" in await page.locator(".search-count").inner_text()
    # the form keeps the filter when the words change, and the order applies on submit
    await page.select_option("#search-sort", "newest")
    await navigating(page, page.click("#search-form button[type=submit]"))
    assert query_of(page.url)["territory"] == ["/kz/almaty/medeu/"] and query_of(page.url)["sort"] == ["newest"]
    # pagination
    await navigating(page, page.locator(".facet-link.is-selected").click())  # back to every territory
    await navigating(page, page.locator(".pagination a[rel=next]").click())
    assert query_of(page.url)["page"] == ["2"]
    assert await page.locator(".search-hit").count() == 5


async def check(page, path: str, code: str, failures: list[str]) -> None:
    await page.goto(path)
    assert await page.get_attribute("html", "lang") == EXPECTED_LANG[code], path
    violations = await axe_violations(page)
    if violations:
        failures.append(f"--- {path} in {code}:\n{format_violations(violations)}")


@pytest.mark.parametrize("code", LANGUAGE_SWITCHES)
async def test_search_pages_pass_axe(new_context, code, indexed):
    context = await new_context()
    page = await context.new_page()
    failures: list[str] = []
    await page.goto("/search")
    await switch_language(page, code)
    for path in (f"/search?q={indexed}", f"/search?q={indexed}&territory=/kz/almaty/&level=consult&per_page=5&page=2",
                 f"/search?q={indexed}zz", "/search?q=блогаустройтсво&status=published", "/search?year=abc"):
        await check(page, path, code, failures)
    # after a live update too
    await page.goto("/search")
    await page.locator("#search-q").press_sequentially(indexed, delay=10)
    await page.wait_for_selector(".search-hit")
    violations = await axe_violations(page)
    if violations:
        failures.append(f"--- /search after typing in {code}:\n{format_violations(violations)}")
    # the administrators' status page
    await sign_in(page, ADMIN, DEMO_PASSWORD)
    await switch_language(page, code)
    await check(page, "/staff/search", code, failures)
    assert not failures, "axe-core found WCAG 2.1 AA violations:\n" + "\n".join(failures)
