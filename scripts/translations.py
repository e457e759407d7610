#!/usr/bin/env python
"""Message catalogues: extract the English msgids, merge them into the Kazakh and Russian
.po files, and check that both are complete.

    python scripts/translations.py extract   # locale/messages.pot from civic/, modules/, search/, templates/
    python scripts/translations.py update    # merge it into locale/{kk,ru}/LC_MESSAGES/messages.po
    python scripts/translations.py check     # exit 1 on any missing, fuzzy or mis-formatted translation

English is the source language: msgids are English and English needs no catalogue. The .po
files are the only thing the application reads (civic/i18n/runtime.py compiles them at first
use), so there is no compile step.

Messages reach gettext in several ways, and the extraction keywords below cover each:
``_``/``gettext``/``ngettext`` (Python and Jinja), ``N_`` (a message marked here and
translated later), the first argument of ``RuleError`` (and ``Denied``, ``NotFound``, ``TooMany``), ``ResponseRuleError`` and ``AccountError`` (their
message is translated where the refusal is shown), the label of ``register_topic(topic,
label)`` and of ``NavEntry(label, path)``. Anything else passed to gettext through a variable
must be wrapped in ``N_()`` where it is written.

``check`` extracts afresh into a temporary folder by default, so a string added to the code
without a translation is found even when nobody ran ``extract``.
"""

from __future__ import annotations

import argparse
import contextlib
import gettext as _gettext_module
import io
import logging
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "locale"
TEMPLATE = LOCALE_DIR / "messages.pot"
MAPPING = ROOT / "babel.cfg"
DOMAIN = "messages"

# Kazakh and Russian are translated; English is the source language.
PLURAL_FORMS = {
    "kk": "nplurals=2; plural=(n!=1);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
}
LANGUAGE_TEAMS = {"kk": "Kazakh <kk@li.org>", "ru": "Russian <ru@li.org>"}
LANGUAGE_NAMES = {"kk": "Kazakh", "ru": "Russian"}
LANGUAGES = tuple(PLURAL_FORMS)

KEYWORDS = (
    "_",
    "gettext",
    "ngettext:1,2",
    "N_",
    "ResponseRuleError",
    "AccountError",
    "RuleError",
    "Denied",
    "NotFound",
    "TooMany",
    "register_topic:2",
    "NavEntry:1",
)

# %(name)s style placeholders (with optional flags, width and precision) and bare %s / %d.
# The space flag is left out: "2% of" is a percent sign before a word, not "% o".
PLACEHOLDER_RE = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0+-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")


def po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return Path(locale_dir) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


# --------------------------------------------------------------------------- extract


@contextlib.contextmanager
def _working_directory(path: Path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def extract(output: Path = TEMPLATE, *, quiet: bool = True) -> Path:
    """Write the template of every msgid in the code and templates to ``output``."""
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    argv = ["pybabel"] + (["-q"] if quiet else []) + [
        "extract",
        "-F", str(MAPPING),
        "--project", "Ashyq",
        "--version", "1",
        "--copyright-holder", "Ashyq contributors",
        "--add-comments", "TRANSLATORS:",
        "--sort-by-file",
        "-o", str(output),
    ]
    for keyword in KEYWORDS:
        argv += ["-k", keyword]
    argv.append(".")
    # Locations in the template are relative to the repository root.
    logger = logging.getLogger("babel")
    level = logger.level
    with _working_directory(ROOT):
        try:
            CommandLineInterface().run(argv)
        finally:
            logger.setLevel(level)
    return output


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    with Path(path).open("rb") as handle:
        return read_po(handle, locale=language)


# --------------------------------------------------------------------------- update


def _set_headers(catalog: Catalog, language: str) -> None:
    catalog.mime_headers = [
        ("Language", language),
        ("Language-Team", LANGUAGE_TEAMS[language]),
        ("Plural-Forms", PLURAL_FORMS[language]),
    ]
    catalog.project = "Ashyq"
    catalog.version = "1"
    catalog.copyright_holder = "Ashyq contributors"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "Ashyq contributors"
    catalog.header_comment = (
        f"# {LANGUAGE_NAMES[language]} translations for Ashyq.\n"
        "# Made with scripts/translations.py: extract, update, translate, check.\n"
        "#"
    )


def update(template_path: Path = TEMPLATE, languages: tuple[str, ...] = LANGUAGES,
           locale_dir: Path = LOCALE_DIR) -> dict[str, Path]:
    """Merge the template into each language's .po, keeping what is translated; a msgid that
    changed a little keeps its old translation marked fuzzy (to be reviewed). Removed msgids
    are dropped."""
    template = read_catalog(template_path)
    written = {}
    for language in languages:
        path = po_path(language, locale_dir)
        if path.exists():
            catalog = read_catalog(path, language)
        else:
            catalog = Catalog(locale=language, project="Ashyq", version="1",
                              copyright_holder="Ashyq contributors", fuzzy=False)
        _set_headers(catalog, language)
        catalog.update(template, update_creation_date=True)
        _set_headers(catalog, language)  # update() must not be able to change the plural rule
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_po(buffer, catalog, ignore_obsolete=True, include_previous=True, sort_by_file=True)
        path.write_bytes(buffer.getvalue())
        written[language] = path
    return written


# --------------------------------------------------------------------------- check


def placeholders(text: str) -> tuple[list[str], int]:
    """The named placeholders of a %-format string (sorted, with repeats) and the number of
    anonymous ones (%s, %d); ``%%`` is a literal percent sign and not counted."""
    text = text.replace("%%", "")
    named, anonymous = [], 0
    for match in PLACEHOLDER_RE.finditer(text):
        if match.group("name") is not None:
            named.append(match.group("name"))
        else:
            anonymous += 1
    return sorted(set(named)), anonymous


def _stray_percent(text: str) -> int:
    """Percent signs that are neither ``%%`` nor the start of a placeholder."""
    return PLACEHOLDER_RE.sub("", text.replace("%%", "")).count("%")


@dataclass
class LanguageReport:
    language: str
    total: int = 0
    missing: list[str] = field(default_factory=list)  # not in the .po at all
    untranslated: list[str] = field(default_factory=list)  # in the .po, empty msgstr (or a plural form)
    fuzzy: list[str] = field(default_factory=list)
    placeholder_errors: list[str] = field(default_factory=list)
    header_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.untranslated or self.fuzzy or self.placeholder_errors or self.header_errors)

    def problems(self) -> list[str]:
        out = [f"{self.language}: {error}" for error in self.header_errors]
        out += [f"{self.language}: missing: {m!r}" for m in self.missing]
        out += [f"{self.language}: untranslated: {m!r}" for m in self.untranslated]
        out += [f"{self.language}: fuzzy: {m!r}" for m in self.fuzzy]
        out += [f"{self.language}: {e}" for e in self.placeholder_errors]
        return out


def _forms_only_for_one(plural_expr: str, nplurals: int) -> set[int]:
    """Plural forms chosen for n == 1 and no other n: a translation there may leave out the
    number, as the English singular does."""
    choose = _gettext_module.c2py(plural_expr)
    users: dict[int, set[int]] = {i: set() for i in range(nplurals)}
    for n in range(0, 1001):
        users.setdefault(choose(n), set()).add(n)
    return {form for form, ns in users.items() if ns == {1}}


def _message_key(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def check_language(template: Catalog, language: str, path: Path | None = None) -> LanguageReport:
    """Compare one language's .po (``path``, by default the one in locale/) with ``template``."""
    report = LanguageReport(language)
    path = Path(path) if path is not None else po_path(language)
    ids = [m for m in template if m.id]
    report.total = len(ids)
    if not path.exists():
        report.header_errors.append(f"{path} does not exist (run update)")
        report.missing = [_message_key(m) for m in ids]
        return report
    catalog = read_catalog(path, language)
    expected = PLURAL_FORMS[language]
    header = dict(catalog.mime_headers).get("Plural-Forms", "")
    if header.replace(" ", "") != expected.replace(" ", ""):
        report.header_errors.append(f"Plural-Forms is {header!r}, expected {expected!r}")
    nplurals = int(re.search(r"nplurals=(\d+)", expected).group(1))
    singular_forms = _forms_only_for_one(re.search(r"plural=(.*);", expected).group(1), nplurals)

    for tmessage in ids:
        key = _message_key(tmessage)
        message = catalog.get(tmessage.id, tmessage.context)
        if message is None:
            report.missing.append(key)
            continue
        if message.fuzzy:
            report.fuzzy.append(key)
        if tmessage.pluralizable:
            singular, plural = tmessage.id
            forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
            forms = tuple(forms) + ("",) * (nplurals - len(forms))
            if not message.pluralizable or any(not f for f in forms[:nplurals]) or len(message.id) != 2:
                report.untranslated.append(key)
                continue
            wanted_plural = placeholders(plural)
            wanted_singular = placeholders(singular)
            for index, form in enumerate(forms[:nplurals]):
                found = placeholders(form)
                allowed = [wanted_plural] + ([wanted_singular] if index in singular_forms else [])
                if found not in allowed:
                    report.placeholder_errors.append(
                        f"placeholders differ in form {index} of {key!r}: {found} in {form!r}, expected {wanted_plural}")
                if _stray_percent(form) != _stray_percent(plural):
                    report.placeholder_errors.append(f"stray '%' in form {index} of {key!r}: {form!r}")
        else:
            string = message.string
            if isinstance(string, (tuple, list)):
                string = string[0] if string else ""
            if not string:
                report.untranslated.append(key)
                continue
            if placeholders(string) != placeholders(key):
                report.placeholder_errors.append(
                    f"placeholders differ for {key!r}: {placeholders(string)} in {string!r}, expected {placeholders(key)}")
            if _stray_percent(string) != _stray_percent(key):
                report.placeholder_errors.append(f"stray '%' in the translation of {key!r}: {string!r}")
    return report


def check(template_path: Path | None = None, languages: tuple[str, ...] = LANGUAGES) -> list[LanguageReport]:
    """Check every language against ``template_path``, or against a fresh extraction."""
    if template_path is not None:
        template = read_catalog(template_path)
        return [check_language(template, language) for language in languages]
    with tempfile.TemporaryDirectory(prefix="ashyq-pot-") as folder:
        template = read_catalog(extract(Path(folder) / "messages.pot"))
        return [check_language(template, language) for language in languages]


def format_reports(reports: list[LanguageReport], *, limit: int = 50) -> str:
    lines = []
    for report in reports:
        lines.append(
            f"{report.language}: {report.total} messages, {len(report.missing)} missing, "
            f"{len(report.untranslated)} untranslated, {len(report.fuzzy)} fuzzy, "
            f"{len(report.placeholder_errors)} placeholder errors"
            + (f", {len(report.header_errors)} header errors" if report.header_errors else "")
        )
        problems = report.problems()
        lines += ["  " + p for p in problems[:limit]]
        if len(problems) > limit:
            lines.append(f"  … and {len(problems) - limit} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p_extract = commands.add_parser("extract", help="write locale/messages.pot")
    p_extract.add_argument("-o", "--output", type=Path, default=TEMPLATE)
    p_update = commands.add_parser("update", help="merge messages.pot into the kk and ru catalogues")
    p_update.add_argument("-t", "--template", type=Path, default=TEMPLATE)
    p_check = commands.add_parser("check", help="report untranslated and fuzzy messages; exit 1 if any")
    p_check.add_argument("-t", "--template", type=Path, default=None,
                         help="check against this template instead of a fresh extraction")
    p_check.add_argument("--limit", type=int, default=50, help="problems listed per language")
    args = parser.parse_args(argv)

    if args.command == "extract":
        path = extract(args.output)
        count = sum(1 for m in read_catalog(path) if m.id)
        print(f"{count} messages written to {os.path.relpath(path)}")
        return 0
    if args.command == "update":
        if not args.template.exists():
            print(f"{args.template} does not exist: run extract first", file=sys.stderr)
            return 2
        for language, path in update(args.template).items():
            print(f"{language}: {os.path.relpath(path)}")
        return 0
    reports = check(args.template)
    print(format_reports(reports, limit=args.limit))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
