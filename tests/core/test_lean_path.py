"""The shortcuts of the request path give what the general way gives: the template environment
(translations, escaping, dict attributes, dates) and SQLite reads on the calling thread."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timezone

import pytest
from jinja2 import Environment
from markupsafe import Markup, escape

from civic.i18n import runtime as i18n
from civic.web import templates
from civic.web.markdown import render_markdown

SOURCE = """{{ _("Ideas") }}|{{ _("Page %(page)s", page=page) }}|{{ _("Page %(page)s", page=evil) }}|\
{{ ngettext("%(num)s support", "%(num)s supports", count) }}|\
{{ ngettext("%(num)s support", "%(num)s supports", count, extra=evil) }}|\
{{ row.title }}|{{ row.id }}|{{ row.missing is undefined }}|{{ row.items() | list | length }}|\
{{ row.get("title") }}|{{ labels.get("x", "none") }}|{{ flag }}|{{ safe }}|{{ nothing }}|{{ ratio }}|\
{% for item in items %}{{ loop.index }}:{{ _("Ideas") }}:{{ item }};{% endfor %}"""


def _stock_environment(autoescape: bool) -> Environment:
    """Jinja's own i18n and escaping over the same catalogues: what the shortcuts must match."""
    env = Environment(autoescape=autoescape, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(templates._gettext, templates._ngettext, newstyle=True)
    return env


def _ours(autoescape: bool) -> Environment:
    env = templates.build_environment(auto_reload=False)
    env.autoescape = autoescape
    return env


CONTEXT = {"page": 3, "evil": "<b>&</b>", "count": 2, "row": {"id": 7, "title": "A <title> & more"},
           "labels": {"x": "<x>"}, "flag": True, "safe": Markup("<em>safe</em>"), "nothing": None,
           "ratio": 0.5, "items": ["<a>", 2]}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_the_environment_renders_what_jinja_renders(language, autoescape):
    i18n.set_language(language)
    try:
        for _ in range(2):  # the second time from the kept translations
            expected = _stock_environment(autoescape).from_string(SOURCE).render(CONTEXT)
            assert _ours(autoescape).from_string(SOURCE).render(CONTEXT) == expected
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_kept_translations_follow_the_catalogue_in_use(monkeypatch):
    """A translation is kept per catalogue, not per language name: another catalogue for the
    same language (as a test may install) is read afresh."""
    env = _ours(True)
    i18n.set_language("ru")
    try:
        first = env.from_string('{{ _("Ideas") }}').render()

        class Other:
            def gettext(self, message):
                return "другое"

            def ngettext(self, singular, plural, n):
                return "другие"

        other = Other()
        monkeypatch.setattr(i18n, "translator", lambda language: other)
        assert env.from_string('{{ _("Ideas") }}').render() == "другое"
        monkeypatch.undo()
        assert env.from_string('{{ _("Ideas") }}').render() == first
    finally:
        i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.mark.parametrize("value", ["a <b> & 'c' \"d\"", "", 42, -1, True, 1.5, None, Markup("<i>x</i>"),
                                   type("Html", (), {"__html__": lambda self: "<u>y</u>"})()])
def test_output_escape_is_markupsafe_escape(value):
    ours = templates.output_escape(value)
    assert ours == escape(value)
    assert isinstance(ours, Markup)


def test_dates_and_numbers_are_the_same_when_kept():
    moment = datetime(2026, 3, 1, 20, 30, tzinfo=timezone.utc)  # already 2 March in Almaty
    for language in ("kk", "ru", "en"):
        i18n.set_language(language)
        try:
            for value, style in ((moment, "d MMMM y"), (moment, "medium"), (date(2026, 3, 1), "medium")):
                expected = templates._format_day.__wrapped__(value, style, language)
                assert templates.format_day(value, style) == expected == templates.format_day(value, style)
            assert templates.format_number(1234567) == templates._format_number.__wrapped__(1234567, language)
        finally:
            i18n.set_language(i18n.DEFAULT_LANGUAGE)
    assert templates.format_day(None) == "" and templates.format_number(None) == ""


def test_markdown_is_the_same_when_kept():
    text = "# Title\n\n**bold** <script>x</script> [link](javascript:alert(1))"
    assert render_markdown(text) == render_markdown(text) == render_markdown.__globals__["_render"](text)
    long_text = "word " * 5000
    assert render_markdown(long_text) == render_markdown.__globals__["_render"](long_text)
    assert render_markdown(None) == render_markdown("")


# ------------------------------------------------------------------ reads on the calling thread


@pytest.fixture()
def engine(tmp_path):
    from civic.db import ReusingSQLiteEngine

    path = tmp_path / "reads.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute('CREATE TABLE "thing" ("id" INTEGER PRIMARY KEY, "name" VARCHAR, "at" TIMESTAMPTZ)')
        connection.executemany('INSERT INTO "thing" ("name", "at") VALUES (?, ?)',
                               [(f"n{n}", "2026-07-27 14:13:13.468967+00:00") for n in range(2000)])
    return ReusingSQLiteEngine(path=str(path))


async def test_a_short_read_runs_on_the_calling_thread(engine):
    rows = await engine._run_in_new_connection('SELECT "id", "name", "at", "id" AS "id" FROM "thing" WHERE "id" = ?',
                                               [5], "select")
    assert rows == [{"id": 5, "name": "n4", "at": datetime(2026, 7, 27, 14, 13, 13, 468967, tzinfo=timezone.utc)}]
    assert engine._inline_all and not engine._read_connections  # no reader thread was needed
    assert await engine._run_in_new_connection('SELECT * FROM "thing" WHERE "id" < 0', [], "select") == []
    await engine.close_read_connections()


async def test_a_long_read_moves_to_the_reader_thread(engine):
    query = 'SELECT COUNT(*) AS "n" FROM "thing" a, "thing" b WHERE a."name" < b."name"'
    assert await engine._run_in_new_connection(query, [], "select") == [{"n": 2000 * 1999 // 2}]
    assert query in engine._long_reads and engine._read_connections
    assert await engine._run_in_new_connection(query, [], "select") == [{"n": 2000 * 1999 // 2}]
    await engine.close_read_connections()
    assert not engine._inline_all and not engine._read_connections


async def test_a_read_is_not_held_up_by_a_writer(engine):
    """A write transaction does not block WAL readers; the inline read sees the last commit."""
    writer = sqlite3.connect(engine.connection_kwargs["database"], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute('UPDATE "thing" SET "name" = \'changed\' WHERE "id" = 1')
    rows = await engine._run_in_new_connection('SELECT "name" FROM "thing" WHERE "id" = 1', [], "select")
    assert rows == [{"name": "n0"}]
    writer.execute("COMMIT")
    rows = await engine._run_in_new_connection('SELECT "name" FROM "thing" WHERE "id" = 1', [], "select")
    assert rows == [{"name": "changed"}]
    writer.close()
    await engine.close_read_connections()


async def test_an_error_in_a_read_is_raised(engine):
    with pytest.raises(sqlite3.OperationalError):
        await engine._run_in_new_connection('SELECT missing_column FROM "thing"', [], "select")
    await engine.close_read_connections()
