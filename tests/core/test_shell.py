"""The page shell: security headers, language and script switches, notifications in the
header, translated error pages, htmx fragments, sanitised markdown."""

from __future__ import annotations

import re

from civic.notify import services as notify_services
from civic.notify.tables import Delivery, NotificationPreference
from civic.web.markdown import render_markdown
from tests.support.web import make_user, post_form, sign_in, unique_email

PASSWORD = "correct horse battery"
CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")


def _main_text(html: str) -> str:
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return re.sub(r"<[^>]+>", " ", main)


async def test_security_headers_on_pages_errors_and_static(client):
    for path in ("/", "/no-such-page", "/static/css/ashyq.css", "/auth/login"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


async def test_no_inline_scripts_and_no_cdn(client):
    page = (await client.get("/")).text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert not re.search(r'(src|href)="https?://', page)


async def test_session_and_csrf_cookie_flags(client):
    email = unique_email("cookie")
    await make_user(email)
    response = await post_form(client, "/auth/login", {"email": email, "password": PASSWORD})
    session_cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith("ashyq_session=")][0]
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie.replace("Lax", "lax")


async def test_language_switch_sets_cookie_and_page_language(client):
    response = await client.get("/language/ru", params={"next": "/organisations"})
    assert response.status_code == 303 and response.headers["location"] == "/organisations"
    page = await client.get("/organisations")
    assert '<html lang="ru">' in page.text and page.headers["content-language"] == "ru"
    await client.get("/language/en")
    assert '<html lang="en">' in (await client.get("/")).text
    unknown = await client.get("/language/xx")
    assert unknown.status_code == 303
    assert '<html lang="en">' in (await client.get("/")).text


async def test_accept_language_is_used_without_a_choice(client):
    page = await client.get("/", headers={"accept-language": "ru-RU,ru;q=0.9,en;q=0.8"})
    assert '<html lang="ru">' in page.text
    page = await client.get("/", headers={"accept-language": "de-DE"})
    assert '<html lang="kk">' in page.text  # Kazakh is the default


async def test_kazakh_latin_switch_rewrites_cyrillic(client):
    import uuid

    from civic.territory.tables import Organisation, Territory

    tag = uuid.uuid4().hex[:8]
    territory = Territory(kind="city", code=f"l{tag}", path=f"/kz/l{tag}/", name_kk="Шымкент қаласы",
                          name_ru="Город Шымкент", name_en="Shymkent")
    await territory.save()
    await Organisation(territory=territory.id, kind="akimat", slug=f"latin-{tag}", name_kk="Шымкент қаласының әкімдігі",
                       name_ru="Акимат города Шымкент", name_en="Akimat of Shymkent").save()
    await client.get("/language/kk")
    cyrillic = await client.get("/organisations")
    assert CYRILLIC.search(_main_text(cyrillic.text)), "the Kazakh page should have Cyrillic text"
    await client.get("/language/latn")
    latin = await client.get("/organisations")
    assert '<html lang="kk-Latn">' in latin.text
    assert not CYRILLIC.search(_main_text(latin.text))
    assert "Şymkent qalasynyñ äkımdıgı" in latin.text
    assert int(latin.headers["content-length"]) == len(latin.content)


async def test_error_pages_are_translated_pages_not_tracebacks(client):
    response = await client.get("/no-such-page", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert "Page not found" in response.text and "<h1>" in response.text
    response = await client.post("/", data={})
    assert response.status_code in (403, 405)
    assert "Traceback" not in response.text


async def test_api_errors_are_json(client):
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["status_code"] == 404


async def test_unread_count_in_header_and_marking_read(client):
    email = unique_email("bell")
    user = await make_user(email)
    await notify_services.notify(user["id"], "response.answered", "Your answer is ready", "Read it", "/")
    await sign_in(client, email, PASSWORD)
    page = await client.get("/")
    assert re.search(r'class="badge">.*?1</span>', page.text, re.S)
    listing = await client.get("/notifications")
    assert "Your answer is ready" in listing.text
    await post_form(client, "/notifications/read")
    assert await notify_services.unread_count(user["id"]) == 0
    assert 'class="badge"' not in (await client.get("/")).text


async def test_notification_preferences_form(client):
    email = unique_email("prefs")
    user = await make_user(email)
    await sign_in(client, email, PASSWORD)
    response = await post_form(client, "/notifications/preferences", {"delivery_response": Delivery.DAILY})
    assert response.status_code == 303
    assert await notify_services.preferences(user["id"]) == {"response": "daily"}
    # a per-topic choice applies to every kind of the topic
    assert await notify_services.preference_for(user["id"], "response.answered") == "daily"
    bad = await post_form(client, "/notifications/preferences", {"delivery_response": "hourly"})
    assert bad.status_code == 303
    assert await notify_services.preferences(user["id"]) == {"response": "daily"}
    assert await NotificationPreference.count().where(NotificationPreference.user == user["id"]) == 1


async def test_htmx_request_gets_the_same_page_when_no_fragment_is_named(client):
    full = await client.get("/organisations")
    htmx = await client.get("/organisations", headers={"hx-request": "true"})
    assert htmx.status_code == 200 and "<main" in htmx.text and len(htmx.text) == len(full.text)


def test_markdown_is_sanitised():
    html = str(render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
                               "[ok](https://akimat.kz) <img src=x onerror=alert(1)>\n\n# Big"))
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html
    assert "&lt;script&gt;" in html  # shown as text, harmless
    assert 'href="https://akimat.kz"' in html and 'rel="nofollow noopener ugc"' in html
    assert "<h3>Big</h3>" in html and "<h1>" not in html


async def test_health_and_openapi(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    spec = (await client.get("/schema/openapi.json")).json()
    assert spec["info"]["title"] == "Ashyq API" and "/api/v1/me" in spec["paths"]
