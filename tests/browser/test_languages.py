"""Language and script switching, pages without JavaScript, and a phone-sized screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from tests.browser.helpers import CYRILLIC, LANGUAGE_SWITCHES, navigating, path_of, sign_in, switch_language

pytestmark = pytest.mark.browser

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
OFFICIAL = f"aigerim.official@{DEMO_EMAIL_DOMAIN}"
EXPECTED_LANG = {"kk": "kk", "ru": "ru", "en": "en", "latn": "kk-Latn"}


def russian(msgid: str) -> str | None:
    """The Russian translation of `msgid`, when the catalogue exists and has one."""
    po_file = LOCALE_DIR / "ru" / "LC_MESSAGES" / "messages.po"
    if not po_file.exists():
        return None
    from babel.messages.pofile import read_po

    with po_file.open("rb") as handle:
        message = read_po(handle, locale="ru").get(msgid)
    if message is None or not message.string or message.fuzzy:
        return None
    return message.string if isinstance(message.string, str) else message.string[0]


async def current_switch(page) -> str:
    return await page.locator("nav.languages a[aria-current='true']").inner_text()


async def test_switch_to_russian_and_back(page):
    await page.goto("/")
    assert await page.get_attribute("html", "lang") == "en"  # from Accept-Language
    assert await current_switch(page) == "English"

    await navigating(page, page.locator("nav.languages").get_by_role("link", name="Русский").click())
    assert path_of(page) == "/"
    assert await page.get_attribute("html", "lang") == "ru"
    assert await current_switch(page) == "Русский"
    assert await page.locator("nav.languages a[aria-current]").count() == 1
    for msgid, where in (("Home", ".main-nav"), ("Ashyq: take part in the decisions of your akimat", "main h1")):
        translated = russian(msgid)
        if translated:
            assert translated in await page.locator(where).first.inner_text()

    # the switch keeps the reader on the same page
    await page.goto("/organisations")
    await navigating(page, page.locator("nav.languages").get_by_role("link", name="Қазақша").click())
    assert path_of(page) == "/organisations"
    assert await page.get_attribute("html", "lang") == "kk"
    assert await current_switch(page) == "Қазақша"


async def test_latin_switch_leaves_no_cyrillic(page):
    await page.goto("/")
    await switch_language(page, "kk")
    await page.goto("/organisations")
    assert CYRILLIC.search(await page.locator("main").inner_text())  # Kazakh names in Cyrillic

    await navigating(page, page.locator("nav.languages").get_by_role("link", name="Qazaqşa").click())
    assert path_of(page) == "/organisations"
    assert await page.get_attribute("html", "lang") == "kk-Latn"
    assert await current_switch(page) == "Qazaqşa"
    # the switch names each language in its own letters, so the two Kazakh links differ
    names = await page.locator("nav.languages a").all_inner_texts()
    assert names == ["Қазақша", "Русский", "English", "Qazaqşa"]
    for path in ("/organisations", "/"):
        await page.goto(path)
        text = await page.locator("main").inner_text()
        assert not CYRILLIC.search(text), f"Cyrillic left on {path}: {CYRILLIC.findall(text)[:20]}"
        assert await page.get_attribute("html", "lang") == "kk-Latn"

    await switch_language(page, "kk")  # and back to Cyrillic
    await page.goto("/organisations")
    assert CYRILLIC.search(await page.locator("main").inner_text())


async def test_sign_in_and_switch_language_without_javascript(new_context):
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto("/auth/login?next=/account")
    await page.fill("#email", OFFICIAL)
    await page.fill("#password", DEMO_PASSWORD)
    await navigating(page, page.click("main form[action='/auth/login'] button[type=submit]"))
    assert path_of(page) == "/account"
    assert await page.locator(".main-nav a[href='/account']").count() == 1
    for code in LANGUAGE_SWITCHES:
        await switch_language(page, code)
        assert page.url.endswith("/account")
        assert await page.get_attribute("html", "lang") == EXPECTED_LANG[code]
    await navigating(page, page.locator(".main-nav form[action='/auth/logout'] button").click())
    assert path_of(page) == "/"
    assert await page.locator(".main-nav a[href='/account']").count() == 0


@pytest.mark.parametrize("code", LANGUAGE_SWITCHES)
async def test_phone_screen_has_no_horizontal_scroll(new_context, code):
    context = await new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto("/")
    await switch_language(page, code)
    pages = ["/", "/organisations", "/organisations/almaty-housing", "/auth/register"]
    if code == "ru":  # the longest header: signed in as an official, with the staff inbox
        await sign_in(page, OFFICIAL, DEMO_PASSWORD)
        await switch_language(page, code)
        pages += ["/account", "/account/tokens", "/notifications", "/staff/inbox"]
    overflowing = {}
    for path in pages:
        await page.goto(path)
        widths = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1] or widths[1] != 375:  # a phone would zoom out rather than widen innerWidth
            overflowing[path] = widths
    assert not overflowing, f"horizontal scroll at 375 px ({code}): {overflowing}"
