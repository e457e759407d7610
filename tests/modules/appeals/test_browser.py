"""Appeals and receptions in a real browser: filing an appeal (with JavaScript and without),
booking a reception by keyboard and cancelling it, and axe-core (WCAG 2.1 A/AA) on every page of
the module in every language, with the demo data loaded."""

from __future__ import annotations

import re

import pytest

from civic.demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from modules.appeals import receptions
from modules.appeals.tables import Appeal, ReceptionBooking, ReceptionSlot
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
HOUSING = f"aigerim.official@{DEMO_EMAIL_DOMAIN}"
MOBILITY = f"daniyar.official@{DEMO_EMAIL_DOMAIN}"
ENERGY = f"svetlana.official@{DEMO_EMAIL_DOMAIN}"
ADMIN = f"admin@{DEMO_EMAIL_DOMAIN}"
EXPECTED_LANG = {"kk": "kk", "ru": "ru", "en": "en", "latn": "kk-Latn"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture(scope="module")
async def demo(settings, live_server):  # noqa: F811
    from datetime import datetime, timezone

    from modules.appeals import demo as appeals_demo

    await appeals_demo.load_demo(settings)

    async def number(key: str) -> str:
        return (await Appeal.select(Appeal.number).where(Appeal.demo_key == key).first())["number"]

    now = datetime.now(timezone.utc)
    held = await ReceptionSlot.select(ReceptionSlot.id).where(
        (ReceptionSlot.starts_at < now) & ReceptionSlot.demo_key.like("demo-almaty-energy-%")).order_by(
        ReceptionSlot.starts_at, ascending=False).first()
    return {
        "overdue": await number("demo-overdue"), "published": await number("demo-published"),
        "joint": await number("demo-joint"), "playground": await number("demo-playground"),
        "duplicate": await number("demo-playground-2"), "letter": await number("demo-letter"),
        "held_slot": held["id"],
    }


async def _free_slot(exclude_person: str) -> int:
    from civic.accounts.tables import User

    person = await User.select(User.id).where(User.email == exclude_person).first()
    for slot in await receptions.upcoming_slots():
        if slot["bookable"] and not await ReceptionBooking.exists().where(
                (ReceptionBooking.slot == slot["id"]) & (ReceptionBooking.person == person["id"])):
            return slot["id"]
    raise AssertionError("no bookable demo reception")


async def test_filing_an_appeal(new_context, demo):  # noqa: F811
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, CITIZEN, DEMO_PASSWORD, "/appeals")
    await switch_language(page, "en")
    await navigating(page, page.click("main a.button[href='/appeals/new']"))
    await page.check("input[name=kind][value=complaint]")
    await page.select_option("#category", "courtyards")
    await page.select_option("#territory", label="Medeu district")
    await page.fill("#title", "Во дворе дома 5 на Кунаева не горят фонари")
    await page.fill("#body", "Уже месяц во дворе дома 5 на улице Кунаева не горит ни один фонарь, вечером темно.")
    await page.set_input_files("#attachment_1", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": PNG}])
    await page.check("input[name=publish_consent]")
    await navigating(page, page.click("main form button[type=submit]"))
    match = re.fullmatch(r"/appeals/(ALM-\d{4}-\d{6})/full", path_of(page))
    assert match, page.url
    number = match.group(1)
    assert f"registered under number {number}" in await page.locator(".flash-success").inner_text()
    assert "photo.png" in await page.locator("main").inner_text()
    appeal = await Appeal.select().where(Appeal.number == number).first()
    assert appeal["channel"] == "online" and appeal["publish_consent"] and appeal["category"] == "courtyards"
    # the public page tells the status and nothing personal
    visitor = await (await new_context()).new_page()
    await visitor.goto(f"/appeals/{number}")
    text = await visitor.locator("main").inner_text()
    assert number in text and "Кунаева" not in text and "Наталья" not in text


async def test_filing_without_javascript_and_fixing_a_mistake(new_context, demo):  # noqa: F811
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, OTHER_CITIZEN, DEMO_PASSWORD, "/appeals/new")
    await switch_language(page, "en")
    await page.check("input[name=kind][value=request]")
    await page.select_option("#category", "transport")
    await page.select_option("#territory", label="Auezov district")
    await page.fill("#title", "Остановка без навеса на Абая — Саина")
    await page.fill("#body", "Коротко")
    await navigating(page, page.click("main form button[type=submit]"))
    assert await page.locator("#body-error").inner_text() == "Describe the problem in 10 to 10000 characters."
    assert await page.input_value("#title") == "Остановка без навеса на Абая — Саина"
    await page.fill("#body", "На остановке Абая — Саина нет навеса, люди стоят под дождём и солнцем.")
    await navigating(page, page.click("main form button[type=submit]"))
    assert re.fullmatch(r"/appeals/ALM-\d{4}-\d{6}/full", path_of(page))


async def test_booking_a_reception_by_keyboard_and_cancelling(new_context, demo):  # noqa: F811
    slot_id = await _free_slot(OTHER_CITIZEN)
    context = await new_context()
    page = await context.new_page()
    await sign_in(page, OTHER_CITIZEN, DEMO_PASSWORD, "/appeals/receptions")
    await switch_language(page, "en")
    await navigating(page, page.click(f"a[href='/appeals/receptions/{slot_id}']"))
    before = (await receptions.get_slot(slot_id))["booked_count"]
    await page.fill("#question", "Как подать заявку на ремонт теплотрассы?")
    await page.focus("main form[action$='/book'] button[type=submit]")
    await navigating(page, page.keyboard.press("Enter"))
    assert path_of(page) == "/appeals/receptions/mine"
    assert "Your place is booked" in await page.locator(".flash-success").inner_text()
    assert (await receptions.get_slot(slot_id))["booked_count"] == before + 1
    card = page.locator(".slot-list li", has=page.locator(f"a[href='/appeals/receptions/{slot_id}']"))
    await navigating(page, card.locator("button[type=submit]").click())
    assert "Your booking is cancelled." in await page.locator(".flash-success").inner_text()
    assert (await receptions.get_slot(slot_id))["booked_count"] == before


async def test_booking_without_javascript(new_context, demo):  # noqa: F811
    slot_id = await _free_slot(CITIZEN)
    context = await new_context(java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, CITIZEN, DEMO_PASSWORD, f"/appeals/receptions/{slot_id}")
    await switch_language(page, "en")
    await navigating(page, page.click("main form[action$='/book'] button[type=submit]"))
    assert path_of(page) == "/appeals/receptions/mine"
    assert await ReceptionBooking.exists().where((ReceptionBooking.slot == slot_id)
                                                 & (ReceptionBooking.status == "booked")
                                                 & (ReceptionBooking.person.email == CITIZEN))


async def _check(page, path: str, code: str, failures: list[str], *, status_ok=(200,)) -> None:
    response = await page.goto(path)
    assert response.status in status_ok, (path, response.status)
    assert await page.get_attribute("html", "lang") == EXPECTED_LANG[code], path
    await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    violations = await axe_violations(page)
    if violations:
        failures.append(f"--- {path} in {code}:\n{format_violations(violations)}")


async def _as(new_context, email: str, code: str):  # noqa: F811
    page = await (await new_context()).new_page()
    await sign_in(page, email, DEMO_PASSWORD, "/appeals")
    await switch_language(page, code)
    return page


@pytest.mark.parametrize("code", LANGUAGE_SWITCHES)
async def test_every_appeals_page_passes_axe(new_context, demo, code):  # noqa: F811
    failures: list[str] = []
    upcoming = (await receptions.upcoming_slots())[0]["id"]

    visitor = await (await new_context()).new_page()
    await visitor.goto("/appeals")
    await switch_language(visitor, code)
    for path in ["/appeals", f"/appeals/{demo['published']}", f"/appeals/{demo['duplicate']}",
                 f"/appeals/{demo['overdue']}", "/appeals/analysis", "/appeals/analysis?months=24&category=energy",
                 "/appeals/receptions", f"/appeals/receptions/{upcoming}", "/appeals/receptions/dashboard"]:
        await _check(visitor, path, code, failures)
    for path in ("/appeals/lookup?number=nonsense", "/appeals/analysis?category=weather"):
        await _check(visitor, path, code, failures, status_ok=(400,))

    citizen = await _as(new_context, CITIZEN, code)
    for path in ["/appeals/new", "/appeals/mine", f"/appeals/{demo['overdue']}/full", "/appeals/receptions/mine",
                 f"/appeals/receptions/{upcoming}"]:
        await _check(citizen, path, code, failures)
    # the form with every error shown
    await citizen.goto("/appeals/new")
    await citizen.evaluate("document.querySelector('main form').noValidate = true")
    await navigating(citizen, citizen.click("main form button[type=submit]"))
    violations = await axe_violations(citizen)
    if violations:
        failures.append(f"--- /appeals/new with errors in {code}:\n{format_violations(violations)}")

    housing = await _as(new_context, HOUSING, code)
    for path in ["/appeals/staff", "/appeals/staff?status_filter=answered", "/appeals/staff/new",
                 f"/appeals/{demo['published']}/full", "/appeals/receptions/staff"]:
        await _check(housing, path, code, failures)
    mobility = await _as(new_context, MOBILITY, code)
    await _check(mobility, f"/appeals/{demo['joint']}/full", code, failures)
    energy = await _as(new_context, ENERGY, code)
    for path in [f"/appeals/{demo['overdue']}/full", f"/appeals/receptions/{demo['held_slot']}/visitors"]:
        await _check(energy, path, code, failures)
    admin = await _as(new_context, ADMIN, code)
    for path in ["/appeals/staff/routing", f"/appeals/{demo['duplicate']}/full", f"/appeals/{demo['letter']}/full"]:
        await _check(admin, path, code, failures)
    assert not failures, "axe-core found WCAG 2.1 AA violations:\n" + "\n".join(failures)
