"""Petitions in a real browser: signing with and without JavaScript and by keyboard, starting a
petition (similar petitions while typing), moderating, and axe-core (WCAG 2.1 A/AA) on every
petitions page in every language."""

from __future__ import annotations

import re

import pytest

from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from modules.petitions.tables import Petition, Signature
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
VERIFIED = f"bolat.citizen@{DEMO_EMAIL_DOMAIN}"
UNCONFIRMED = f"ainur.citizen@{DEMO_EMAIL_DOMAIN}"
MODERATOR = f"olga.moderator@{DEMO_EMAIL_DOMAIN}"
OFFICIAL = f"nurlan.official@{DEMO_EMAIL_DOMAIN}"
ADMIN = f"admin@{DEMO_EMAIL_DOMAIN}"
EXPECTED_LANG = {"kk": "kk", "ru": "ru", "en": "en", "latn": "kk-Latn"}


@pytest.fixture(scope="module")
async def demo(settings, live_server):  # noqa: F811
    from modules.petitions import demo as petitions_demo
    from search.service import start

    await petitions_demo.load_demo(settings)
    await start(live_server.server.config.app.state.search)  # configure the index; the listed petitions go in
    stages = {spec.stage: spec.title for spec in petitions_demo.PETITIONS}

    async def key(stage: str) -> str:
        return (await Petition.select(Petition.key).where(Petition.title == stages[stage]).first())["key"]

    return {stage: await key(stage) for stage in stages}


async def _territory(code: str) -> str:
    from civic.territory.tables import Territory

    return str((await Territory.select(Territory.id).where(Territory.code == code).first())["id"])


async def _count(key: str) -> int:
    return (await Petition.select(Petition.signature_count).where(Petition.key == key).first())["signature_count"]


async def _unsign(key: str, email: str) -> None:
    """Leave the demo as it was: take a test signature back out."""
    from modules.petitions import services
    from civic.accounts.services import user_by_email

    petition = await Petition.select(Petition.id).where(Petition.key == key).first()
    await services.withdraw(await user_by_email(email), petition["id"])


async def test_signing_with_javascript_swaps_the_block_in_place_and_keeps_focus(new_context, demo):  # noqa: F811
    key = demo["listed"]
    before = await _count(key)
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, OTHER_CITIZEN, DEMO_PASSWORD, f"/petitions/{key}")
    await switch_language(page, "en")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    await page.focus("#sign-button")
    await page.keyboard.press("Enter")  # by keyboard
    await page.wait_for_selector("#signing:has-text('Thank you! Your signature is counted.')")
    assert f"{before + 1:,} of 5,000 signatures" in await page.locator("#signing").inner_text()
    assert navigations == []  # htmx swapped the block; the page stayed
    assert await _count(key) == before + 1
    await page.focus("#withdraw-button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#signing:has-text('Your signature is withdrawn.')")
    assert await _count(key) == before


async def test_signing_without_javascript_and_hiding_the_name(new_context, demo):  # noqa: F811
    key = demo["listed"]
    before = await _count(key)
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, CITIZEN, DEMO_PASSWORD, f"/petitions/{key}")
    await switch_language(page, "en")
    await page.check("input[name=hide_name]")
    await navigating(page, page.click("#sign-button"))
    assert path_of(page) == f"/petitions/{key}"
    signing = await page.locator("#signing").inner_text()
    assert "Thank you! Your signature is counted." in signing and "Your name is not shown publicly." in signing
    assert await _count(key) == before + 1
    signature = await Signature.select(Signature.show_name).where(
        (Signature.petition.key == key) & (Signature.user.email == CITIZEN)).first()
    assert signature["show_name"] is False
    await navigating(page, page.click("#withdraw-button"))
    assert "Your signature is withdrawn." in await page.locator("#signing").inner_text()
    assert await _count(key) == before


async def test_an_unconfirmed_person_is_told_what_is_needed(new_context, demo):  # noqa: F811
    page = await (await new_context()).new_page()
    await sign_in(page, UNCONFIRMED, DEMO_PASSWORD, f"/petitions/{demo['listed']}")
    await switch_language(page, "en")
    text = await page.locator("#signing").inner_text()
    assert "To sign this petition you need a confirmed e-mail address." in text
    assert await page.locator("#sign-button").count() == 0


async def test_starting_a_petition_shows_similar_ones_while_typing(new_context, demo):  # noqa: F811
    page = await (await new_context()).new_page()
    await sign_in(page, VERIFIED, DEMO_PASSWORD, "/petitions/new")
    await switch_language(page, "en")
    await page.select_option("#organisation", label="Akimat of Almaty")
    await page.type("#title", "велосипед жолдары", delay=20)
    await page.wait_for_selector("#similar a", timeout=10_000)
    assert "велосипед" in (await page.locator("#similar").inner_text()).lower()
    await page.fill("#title", "Жарық шамдары Медеу ауданының аулаларында")
    await page.fill("#ask", "Медеу ауданының ескі аулаларына көше шамдарын орнату.")
    await page.fill("#reasons", "Қыста аулалар ерте қараңғыланады, адамдар мұзда құлайды.")
    await page.select_option("#territory", value=await _territory("almaty.medeu"))
    await navigating(page, page.click("main form button[type=submit]"))
    assert re.fullmatch(r"/petitions/[\w-]+", path_of(page))
    assert "Your petition is sent for moderation" in await page.locator(".flash-success").inner_text()
    assert "waits for moderation" in await page.locator("main").inner_text()


async def test_a_bad_draft_shows_the_message_and_keeps_the_text(new_context, demo):  # noqa: F811
    page = await (await new_context()).new_page()
    await sign_in(page, VERIFIED, DEMO_PASSWORD, "/petitions/new")
    await switch_language(page, "en")
    await page.select_option("#organisation", label="Akimat of Almaty")
    await page.fill("#title", "Автобусы на Шугыле каждые 10 минут")
    await page.fill("#ask", "Чаще")
    await page.fill("#reasons", "Люди ждут автобус по полчаса на остановке.")
    await page.select_option("#territory", value=await _territory("almaty.nauryzbay"))
    await navigating(page, page.click("main form button[type=submit]"))
    assert await page.locator("#ask-error").inner_text() == "Say what you ask for in 20 to 5000 characters."
    assert await page.input_value("#title") == "Автобусы на Шугыле каждые 10 минут"
    assert await page.get_attribute("#ask", "aria-invalid") == "true"


async def test_a_moderator_publishes_from_the_queue(new_context, demo):  # noqa: F811
    page = await (await new_context(java_script_enabled=False)).new_page()
    await sign_in(page, MODERATOR, DEMO_PASSWORD, "/petitions/moderation")
    await switch_language(page, "en")
    title = "Ограничить движение грузовиков по проспекту Абая в часы пик"
    card = page.locator(".queue li", has_text=title)
    assert await card.count() == 1
    assert "Decide by" in await card.inner_text()
    await navigating(page, card.locator("button", has_text="Publish: open for signatures").click())
    assert path_of(page) == f"/petitions/{demo['moderation']}"
    assert "The petition is published. Signing is open." in await page.locator(".flash-success").inner_text()
    await Petition.update({Petition.state: "moderation", Petition.opened_at: None, Petition.closes_at: None}).where(
        Petition.key == demo["moderation"])  # leave the demo as it was


async def _check(page, path: str, code: str, failures: list[str]) -> None:
    response = await page.goto(path)
    assert response.status < 400 or "status=weather" in path, (path, response.status)
    assert await page.get_attribute("html", "lang") == EXPECTED_LANG[code], path
    await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    violations = await axe_violations(page)
    if violations:
        failures.append(f"--- {path} in {code}:\n{format_violations(violations)}")


@pytest.mark.parametrize("code", LANGUAGE_SWITCHES)
async def test_every_petitions_page_passes_axe(new_context, demo, code):  # noqa: F811
    failures: list[str] = []
    visitor = await (await new_context()).new_page()
    await visitor.goto("/petitions")
    await switch_language(visitor, code)
    public = ["/petitions", "/petitions?sort=newest&status=answered", "/petitions?status=weather",
              "/petitions?territory=almaty.auezov", *(f"/petitions/{demo[s]}" for s in
                                                      ("link_only", "listed", "answered", "closed", "anonymised",
                                                       "flagged")),
              f"/petitions/{demo['answered']}/signers"]
    for path in public:
        await _check(visitor, path, code, failures)

    citizen = await (await new_context()).new_page()
    await sign_in(citizen, CITIZEN, DEMO_PASSWORD, "/petitions")
    await switch_language(citizen, code)
    for path in ["/petitions/new", "/petitions/mine", f"/petitions/{demo['listed']}"]:
        await _check(citizen, path, code, failures)

    author = await (await new_context()).new_page()
    await sign_in(author, OTHER_CITIZEN, DEMO_PASSWORD, "/petitions/mine")
    await switch_language(author, code)
    for path in [f"/petitions/{demo['rejected']}", f"/petitions/{demo['moderation']}"]:
        await _check(author, path, code, failures)

    moderator = await (await new_context()).new_page()
    await sign_in(moderator, MODERATOR, DEMO_PASSWORD, "/petitions/moderation")
    await switch_language(moderator, code)
    for path in ["/petitions/moderation", f"/petitions/{demo['moderation']}", f"/petitions/{demo['flagged']}/review"]:
        await _check(moderator, path, code, failures)

    admin = await (await new_context()).new_page()
    await sign_in(admin, ADMIN, DEMO_PASSWORD, "/petitions/rules")
    await switch_language(admin, code)
    for path in ["/petitions/rules", "/petitions/rules/almaty-akimat", f"/petitions/{demo['answered']}"]:
        await _check(admin, path, code, failures)
    assert not failures, "\n".join(failures)
