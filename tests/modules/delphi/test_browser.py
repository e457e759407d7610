"""Delphi in a real browser: an expert answers round 2 of the demo foresight without JavaScript
(saving a draft, then sending), the results page with its chart and table, and axe-core
(WCAG 2.1 A/AA) on every Delphi page in every language."""

from __future__ import annotations

import pytest

from modules.delphi.tables import Study
from tests.browser.conftest import browser, live_server, new_context, page  # noqa: F401  (fixtures)
from tests.browser.helpers import (
    LANGUAGE_SWITCHES,
    axe_violations,
    format_violations,
    navigating,
    path_of,
    sign_in,
    switch_language,
)

pytestmark = pytest.mark.browser

EXPECTED_LANG = {"kk": "kk", "ru": "ru", "en": "en", "latn": "kk-Latn"}


@pytest.fixture(scope="module")
async def demo(settings, live_server):  # noqa: F811
    from modules.delphi import demo as delphi_demo

    await delphi_demo.load_demo(settings)

    async def key(title: str) -> str:
        return (await Study.select(Study.key).where(Study.title == title).first())["key"]

    return {"finished": await key(delphi_demo.KINDERGARTEN), "running": await key(delphi_demo.FOREST),
            "organiser": delphi_demo.ORGANISER_EMAIL, "waiting": delphi_demo.expert_email(20),
            "answered": delphi_demo.expert_email(6)}


async def test_an_expert_answers_round_two_without_javascript(new_context, demo):  # noqa: F811
    from civic.demo import DEMO_PASSWORD

    page = await (await new_context(java_script_enabled=False)).new_page()
    await sign_in(page, demo["waiting"], DEMO_PASSWORD, f"/delphi/{demo['running']}/round")
    await switch_language(page, "en")
    assert "Round 2" in await page.locator("h1").inner_text()
    # the feedback of round 1: statistics and the reasons, minority first
    await page.locator("details summary").first.click()
    feedback = await page.locator("details").first.inner_text()
    assert "Median" in feedback and "Minority view" in feedback
    first = page.locator("main form input[inputmode=decimal]").first
    await first.fill("2035")
    await navigating(page, page.click("button[value=draft]"))
    assert path_of(page) == f"/delphi/{demo['running']}/round"
    assert "Your draft is saved" in await page.locator(".flash-success").inner_text()
    assert await page.locator("main form input[inputmode=decimal]").first.input_value() == "2035"
    await navigating(page, page.click("button[value=submit]"))
    assert "Some answers need your attention." in await page.locator("#form-errors").inner_text()


async def test_the_results_page_shows_convergence_as_chart_and_table(new_context, demo):  # noqa: F811
    page = await (await new_context()).new_page()
    await page.goto(f"/delphi/{demo['finished']}/results")
    await switch_language(page, "en")
    assert await page.locator("svg[role=img]").count() >= 4
    assert await page.locator("table caption", has_text="Convergence across rounds").count() >= 4
    assert "Consensus" in await page.locator("main").inner_text()


async def _check(page, path: str, code: str, failures: list[str]) -> None:
    response = await page.goto(path)
    assert response.status < 400, (path, response.status)
    assert await page.get_attribute("html", "lang") == EXPECTED_LANG[code], path
    await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    violations = await axe_violations(page)
    if violations:
        failures.append(f"--- {path} in {code}:\n{format_violations(violations)}")


@pytest.mark.parametrize("code", LANGUAGE_SWITCHES)
async def test_every_delphi_page_passes_axe(new_context, demo, code):  # noqa: F811
    from civic.demo import DEMO_PASSWORD

    failures: list[str] = []
    visitor = await (await new_context()).new_page()
    await visitor.goto("/delphi")
    await switch_language(visitor, code)
    for path in ["/delphi", f"/delphi/{demo['finished']}/results", f"/delphi/{demo['finished']}/report"]:
        await _check(visitor, path, code, failures)

    organiser = await (await new_context()).new_page()
    await sign_in(organiser, demo["organiser"], DEMO_PASSWORD, "/delphi")
    await switch_language(organiser, code)
    for path in ["/delphi", "/delphi/new", f"/delphi/{demo['running']}", f"/delphi/{demo['finished']}",
                 f"/delphi/{demo['finished']}/results", f"/delphi/{demo['running']}/results"]:
        await _check(organiser, path, code, failures)

    expert = await (await new_context()).new_page()
    await sign_in(expert, demo["answered"], DEMO_PASSWORD, "/delphi")
    await switch_language(expert, code)
    for path in ["/delphi", f"/delphi/{demo['running']}", f"/delphi/{demo['running']}/round"]:
        await _check(expert, path, code, failures)
    assert not failures, "\n".join(failures)
