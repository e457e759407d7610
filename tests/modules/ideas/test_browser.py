"""Ideas in a real browser: proposing, supporting with and without JavaScript and by keyboard,
discussing, moderating, and axe-core (WCAG 2.1 A/AA) on every ideas page in every language."""

from __future__ import annotations

import re

import pytest

from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from civic.participation.tables import Comment, Support
from modules.ideas.tables import Challenge, Idea
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

CITIZEN = f"natalia.citizen@{DEMO_EMAIL_DOMAIN}"
OTHER_CITIZEN = f"dana.citizen@{DEMO_EMAIL_DOMAIN}"
MODERATOR = f"olga.moderator@{DEMO_EMAIL_DOMAIN}"
OFFICIAL = f"assel.official@{DEMO_EMAIL_DOMAIN}"
ADMIN = f"admin@{DEMO_EMAIL_DOMAIN}"
EXPECTED_LANG = {"kk": "kk", "ru": "ru", "en": "en", "latn": "kk-Latn"}


@pytest.fixture(scope="module")
async def demo(settings, live_server):  # noqa: F811
    from modules.ideas import demo as ideas_demo

    await ideas_demo.load_demo(settings)

    async def idea_id(title: str) -> int:
        return (await Idea.select(Idea.id).where(Idea.title == title).first())["id"]

    async def challenge_id(title: str) -> int:
        return (await Challenge.select(Challenge.id).where(Challenge.title == title).first())["id"]

    return {
        "answered": await idea_id(ideas_demo.IDEAS[0].title),
        "overdue": await idea_id(ideas_demo.IDEAS[1].title),
        "discussed": await idea_id(ideas_demo.IDEAS[4].title),
        "versioned": await idea_id(ideas_demo.IDEAS[7].title),
        "quiet": await idea_id(ideas_demo.IDEAS[8].title),
        "implemented": await idea_id(ideas_demo.IDEAS[16].title),
        "hidden": await idea_id(ideas_demo.IDEAS[19].title),
        "reported": await idea_id(ideas_demo.IDEAS[20].title),
        "open_challenge": await challenge_id(ideas_demo.CHALLENGES[0].title),
        "closed_challenge": await challenge_id(ideas_demo.CHALLENGES[1].title),
    }


async def _count(idea_id: int) -> int:
    return (await Idea.select(Idea.support_count).where(Idea.id == idea_id).first())["support_count"]


async def test_proposing_an_idea(new_context, demo):  # noqa: F811
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, CITIZEN, DEMO_PASSWORD, "/ideas")
    await switch_language(page, "en")
    await navigating(page, page.click("a.button[href='/ideas/new']"))
    # typing the title asks the search index for similar items (htmx, debounced)
    async with page.expect_request(lambda r: "/api/v1/search/similar" in r.url) as asked:
        await page.locator("#title").press_sequentially("Скамейки у остановки «Медеу» на Достык", delay=5)
    request = await asked.value
    assert "module=ideas" in request.url and "title=" in request.url
    assert request.headers.get("hx-request") == "true"
    assert await page.get_attribute("#similar", "aria-live") == "polite"
    await page.fill("#body", "На остановке нет ни одной скамейки, пожилые люди ждут автобус стоя по 15 минут.")
    await page.select_option("#category", "courtyards")
    await page.select_option("#territory", label="Medeu district")
    await page.fill("#cost_estimate", "300000")
    await navigating(page, page.click("main form button[type=submit]"))
    assert re.fullmatch(r"/ideas/\d+", path_of(page))
    assert await page.locator(".flash-success").inner_text() == "Thank you! Your idea is published."
    assert await page.locator("h1").inner_text() == "Скамейки у остановки «Медеу» на Достык"


async def test_a_bad_proposal_shows_the_message_and_keeps_the_text(new_context, demo):  # noqa: F811
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, CITIZEN, DEMO_PASSWORD, "/ideas/new")
    await switch_language(page, "en")
    await page.fill("#title", "Короткое описание у этой идеи")
    await page.fill("#body", "Мало")
    await page.select_option("#category", "parks")
    await page.select_option("#territory", label="Medeu district")
    await navigating(page, page.click("main form button[type=submit]"))
    assert await page.locator("#body-error").inner_text() == "Describe the idea in 20 to 10000 characters."
    assert await page.input_value("#title") == "Короткое описание у этой идеи"
    assert await page.get_attribute("#body", "aria-invalid") == "true"


async def test_supporting_with_javascript_updates_the_count_in_place_and_keeps_focus(new_context, demo):  # noqa: F811
    idea_id = demo["quiet"]
    before = await _count(idea_id)
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, OTHER_CITIZEN, DEMO_PASSWORD, f"/ideas/{idea_id}")
    await switch_language(page, "en")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    await page.focus("#support-button")
    await page.keyboard.press("Enter")  # by keyboard
    await page.wait_for_selector("#support-button:has-text('Withdraw my support')")
    assert f"{before + 1} people support this idea." in await page.locator("#support").inner_text()
    assert await page.evaluate("document.activeElement.id") == "support-button"
    assert navigations == []  # htmx swapped the block; the page stayed
    assert await _count(idea_id) == before + 1
    await page.click("#support-button")
    await page.wait_for_selector("#support-button:has-text('Support this idea')")
    assert f"{before} people support this idea." in await page.locator("#support").inner_text()
    assert await _count(idea_id) == before


async def test_supporting_without_javascript(new_context, demo):  # noqa: F811
    idea_id = demo["quiet"]
    before = await _count(idea_id)
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, CITIZEN, DEMO_PASSWORD, f"/ideas/{idea_id}")
    await switch_language(page, "en")
    await navigating(page, page.click("#support-button"))
    assert path_of(page) == f"/ideas/{idea_id}"
    assert "Thank you for your support." in await page.locator(".flash-success").inner_text()
    assert f"{before + 1} people support this idea." in await page.locator("#support").inner_text()
    await navigating(page, page.click("#support-button"))
    assert "Your support is withdrawn." in await page.locator(".flash-success").inner_text()
    assert await _count(idea_id) == before


async def test_discussing_with_htmx(new_context, demo):  # noqa: F811
    idea_id = demo["discussed"]
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, OTHER_CITIZEN, DEMO_PASSWORD, f"/ideas/{idea_id}")
    await switch_language(page, "en")
    await page.fill("#comment", "Nobody has published the survey acts yet.")
    await page.click(".comment-form button[type=submit]")
    await page.wait_for_selector("#discussion li:has-text('Nobody has published the survey acts yet.')")
    assert await page.locator("#discussion-status").inner_text() == "Your comment is published."
    assert path_of(page) == f"/ideas/{idea_id}"
    assert await Comment.exists().where((Comment.subject == f"ideas:{idea_id}")
                                        & (Comment.body == "Nobody has published the survey acts yet."))


async def test_filtering_the_list_with_htmx_keeps_a_shareable_address(new_context, demo):  # noqa: F811
    context = await new_context()
    page = await context.new_page()
    await page.goto("/ideas")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    await page.select_option("#filter-category", "lighting")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url(re.compile(r"category=lighting"))
    assert "idea" in await page.locator("#results-status").inner_text()
    titles = await page.locator("#results .idea-card h3").all_inner_texts()
    assert titles and "Тимирязев көшесі 42 үйдің ауласына шам орнату" in titles
    assert "Отремонтировать тротуар на улице Жамбыла между Фурманова и Пушкина" not in titles
    # the pushed address is shareable: opened afresh, it shows the same list
    fresh = await (await new_context(java_script_enabled=False)).new_page()
    await fresh.goto(page.url)
    assert await fresh.locator("#results .idea-card h3").all_inner_texts() == titles


async def test_moderating_a_reported_comment(new_context, demo):  # noqa: F811
    idea_id = demo["reported"]
    reported = await Comment.select().where((Comment.subject == f"ideas:{idea_id}") & (Comment.kind == "comment")).order_by(
        Comment.id).first()
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, MODERATOR, DEMO_PASSWORD, "/ideas/moderation")
    await switch_language(page, "en")
    card = page.locator(".queue li", has_text=reported["body"][:30])
    assert await card.count() == 1
    await card.locator("summary", has_text="Hide").click()
    await card.locator("select[name=reason]").select_option("offensive")
    await card.locator("textarea[name=note]").fill("Insults cyclists.")
    await navigating(page, card.locator("button.danger", has_text="Hide").click())
    assert path_of(page) == "/ideas/moderation"
    assert await page.locator(".queue li", has_text=reported["body"][:30]).count() == 0

    visitor = await (await new_context()).new_page()
    await visitor.goto(f"/ideas/{idea_id}")
    text = await visitor.locator(f"#comment-{reported['id']}").inner_text()
    assert "hidden by a moderator" in text and "Offensive or insulting" in text and reported["body"] not in text
    await visitor.goto("/ideas/moderation/log")
    assert "Insults cyclists." in await visitor.locator("main").inner_text()
    assert "Ольга" not in await visitor.locator("main").inner_text()


async def _check(page, path: str, code: str, failures: list[str]) -> None:
    response = await page.goto(path)
    assert response.status < 400 or "category=weather" in path, (path, response.status)
    assert await page.get_attribute("html", "lang") == EXPECTED_LANG[code], path
    violations = await axe_violations(page)
    if violations:
        failures.append(f"--- {path} in {code}:\n{format_violations(violations)}")


async def _open_details(page) -> None:
    """Open every disclosure so the forms inside are checked too."""
    await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


@pytest.mark.parametrize("code", LANGUAGE_SWITCHES)
async def test_every_ideas_page_passes_axe(new_context, demo, code):  # noqa: F811
    public = ["/ideas", "/ideas?sort=trending&territory=almaty.bostandyk", "/ideas?sort=answered",
              "/ideas?category=weather", "/ideas/challenges", f"/ideas/challenges/{demo['open_challenge']}",
              f"/ideas/challenges/{demo['closed_challenge']}", "/ideas/moderation/log",
              *(f"/ideas/{demo[key]}" for key in ("answered", "overdue", "discussed", "versioned", "implemented",
                                                   "hidden"))]
    failures: list[str] = []
    visitor = await (await new_context()).new_page()
    await visitor.goto("/ideas")
    await switch_language(visitor, code)
    for path in public:
        await _check(visitor, path, code, failures)
        await _open_details(visitor)

    citizen = await (await new_context()).new_page()
    await sign_in(citizen, CITIZEN, DEMO_PASSWORD, "/ideas")
    await switch_language(citizen, code)
    own = (await Idea.select(Idea.id).where(Idea.author.email == CITIZEN).order_by(Idea.id, ascending=False)
           .first())["id"]
    for path in ["/ideas/new", f"/ideas/new?challenge={demo['open_challenge']}", f"/ideas/{demo['discussed']}",
                 f"/ideas/{own}/edit"]:
        await _check(citizen, path, code, failures)
        await _open_details(citizen)
        if path == f"/ideas/{demo['discussed']}":
            violations = await axe_violations(citizen)
            if violations:
                failures.append(f"--- {path} with open forms in {code}:\n{format_violations(violations)}")

    staff = await (await new_context()).new_page()
    await sign_in(staff, MODERATOR, DEMO_PASSWORD, "/ideas/moderation")
    await switch_language(staff, code)
    for path in ["/ideas/moderation", f"/ideas/{demo['reported']}", f"/ideas/{demo['hidden']}"]:
        await _check(staff, path, code, failures)
        await _open_details(staff)
        violations = await axe_violations(staff)
        if violations:
            failures.append(f"--- {path} with open forms in {code}:\n{format_violations(violations)}")

    official = await (await new_context()).new_page()
    await sign_in(official, OFFICIAL, DEMO_PASSWORD, f"/ideas/{demo['answered']}")
    await switch_language(official, code)
    await _check(official, f"/ideas/{demo['answered']}", code, failures)
    admin = await (await new_context()).new_page()
    await sign_in(admin, ADMIN, DEMO_PASSWORD, "/ideas/challenges/new")
    await switch_language(admin, code)
    for path in ["/ideas/challenges/new", "/ideas/policy", "/ideas/policy/almaty-akimat",
                 f"/ideas/{demo['versioned']}"]:
        await _check(admin, path, code, failures)
    assert not failures, "axe-core found WCAG 2.1 AA violations:\n" + "\n".join(failures)


async def test_support_counts_match_the_rows_after_the_browser_tests(demo):
    for key in ("quiet", "discussed"):
        assert await _count(demo[key]) == await Support.count().where(Support.subject == f"ideas:{demo[key]}")
