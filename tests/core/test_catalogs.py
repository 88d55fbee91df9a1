"""The translation catalogs: complete, compiled, placeholders intact, and the template catalog holds
every string the templates contain (docs/translating.md).

Two catalogs per language (settings.LOCALE_PATHS): alliance/templates/locale (template text) and
alliance/locale (Python text). Every check runs on every .po of every language.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.utils import translation

from alliance.core.catalogs import (
    catalog_files,
    compile_catalog,
    compile_file,
    fuzzy,
    language_of,
    mo_translations,
    placeholder_mismatches,
    placeholders,
    read_catalog,
    translations,
    untranslated,
)

LOCALE_PATHS = [Path(p) for p in settings.LOCALE_PATHS]
TEMPLATE_LOCALE = Path(settings.BASE_DIR) / "templates" / "locale"
CATALOGS = catalog_files(LOCALE_PATHS)
# Languages whose catalogs must be fully translated; English is the source language, so an empty
# msgstr there means "the msgid as written".
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _id(po: Path) -> str:
    return str(po.relative_to(settings.BASE_DIR))


def test_every_language_has_both_catalogs_and_their_mo() -> None:
    for base in LOCALE_PATHS:
        for code, _name in settings.LANGUAGES:
            po = base / code / "LC_MESSAGES" / "django.po"
            assert po.exists(), f"missing {po}: run makemessages (docs/translating.md)"
            assert po.with_suffix(".mo").exists(), (
                f"missing {po.with_suffix('.mo')}: run compilemessages"
            )


@pytest.mark.parametrize("po", [p for p in CATALOGS if language_of(p) in TRANSLATED], ids=_id)
def test_translated_languages_have_no_untranslated_entry(po: Path) -> None:
    missing = untranslated(read_catalog(po))
    assert not missing, f"{len(missing)} untranslated in {_id(po)}:\n" + "\n".join(missing[:40])


@pytest.mark.parametrize("po", CATALOGS, ids=_id)
def test_no_fuzzy_entry(po: Path) -> None:
    # makemessages marks a guessed translation fuzzy; it is left out of the .mo, so the page would
    # show English while the .po looks translated.
    found = fuzzy(read_catalog(po))
    assert not found, f"{len(found)} fuzzy in {_id(po)}:\n" + "\n".join(found[:40])


@pytest.mark.parametrize("po", CATALOGS, ids=_id)
def test_placeholders_match_between_msgid_and_msgstr(po: Path) -> None:
    problems = placeholder_mismatches(read_catalog(po))
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("po", CATALOGS, ids=_id)
def test_compiled_mo_is_up_to_date_with_its_po(po: Path) -> None:
    expected = translations(read_catalog(po))
    compiled = mo_translations(po.with_suffix(".mo"))
    stale = {k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)}
    assert not stale, (
        f"{_id(po.with_suffix('.mo'))} differs from its .po in {len(stale)} entries "
        f"(e.g. {sorted(map(str, stale))[:5]}): run `alliance compilemessages`"
    )


def _extract_templates(tmp_path: Path) -> Catalog:
    """Run the documented extraction (makemessages from alliance/templates) on a copy of the
    templates, so the committed catalog is untouched, and read the .pot it leaves."""
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATE_LOCALE.parent, copy, ignore=shutil.ignore_patterns("locale"))
    (copy / "locale").mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "alliance.settings"}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(settings.BASE_DIR).parent), env.get("PYTHONPATH")])
    )
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "es", "--keep-pot", "--no-location"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    # A .pot's header has the placeholder "nplurals=INTEGER", which Babel refuses to read.
    pot = (copy / "locale" / "django.pot").read_text(encoding="utf-8")
    pot = pot.replace("nplurals=INTEGER; plural=EXPRESSION;", "nplurals=2; plural=(n != 1);")
    return read_po(StringIO(pot))


@pytest.mark.skipif(
    shutil.which("xgettext") is None, reason="xgettext (GNU gettext) is not installed"
)
def test_template_catalog_has_every_template_string_and_no_stale_one(tmp_path: Path) -> None:
    extracted = {(m.id, m.context) for m in _extract_templates(tmp_path) if m.id}
    for code, _name in settings.LANGUAGES:
        po = TEMPLATE_LOCALE / code / "LC_MESSAGES" / "django.po"
        committed = {(m.id, m.context) for m in read_catalog(po) if m.id}
        missing, stale = extracted - committed, committed - extracted
        assert not missing, (
            f"{len(missing)} template strings not in {_id(po)} (run makemessages, "
            f"docs/translating.md): {sorted(map(str, missing))[:20]}"
        )
        assert not stale, (
            f"{len(stale)} entries no template uses in {_id(po)}: {sorted(map(str, stale))[:20]}"
        )


def test_django_reads_the_compiled_template_catalog() -> None:
    with translation.override("es"):
        page = render_to_string("404.html")
    with translation.override("en"):
        english = render_to_string("404.html")
    assert page != english
    assert 'lang="es"' in page and 'lang="en"' in english


# --- The checks themselves catch what they are there to catch -------------------------------------


def _catalog(*entries: tuple[str | tuple[str, str], str | tuple[str, ...], bool]) -> Catalog:
    catalog = Catalog(locale="es")
    for msgid, msgstr, is_fuzzy in entries:
        flags = {"python-format"} | ({"fuzzy"} if is_fuzzy else set())
        catalog.add(msgid, msgstr, flags=flags)
    return catalog


def test_placeholders_reads_percent_and_brace_styles() -> None:
    assert placeholders("%(name)s has %(count)d of %s, 100%%") == ["%(count)d", "%(name)s", "%s"]
    assert placeholders("goal {number} {{literal}}") == ["{number}"]


def test_a_dropped_renamed_or_invented_placeholder_is_reported() -> None:
    catalog = _catalog(
        ("Hello %(name)s", "Hola", False),
        ("From %(when)s", "Desde %(cuando)s", False),
        ("Session", "Sesión %(n)s", False),
        ("Fine %(x)s", "Bien %(x)s", False),
    )
    problems = placeholder_mismatches(catalog)
    assert len(problems) == 3
    assert not any("Fine" in p for p in problems)


def test_a_plural_singular_may_leave_out_the_count_but_other_forms_may_not() -> None:
    good = _catalog((("%(n)s session", "%(n)s sessions"), ("Una sesión", "%(n)s sesiones"), False))
    bad = _catalog(
        (("%(n)s session", "%(n)s sessions"), ("%(n)s sesión", "varias sesiones"), False)
    )
    assert placeholder_mismatches(good) == []
    assert len(placeholder_mismatches(bad)) == 1


def test_untranslated_and_fuzzy_entries_are_found_and_fuzzy_ones_stay_out_of_the_mo() -> None:
    catalog = _catalog(("Save", "Guardar", False), ("Cancel", "", False), ("Close", "Cerrar", True))
    assert untranslated(catalog) == ["'Cancel'"]
    assert fuzzy(catalog) == ["'Close'"]
    assert translations(catalog) == {("Save", None): "Guardar"}
    assert b"Cerrar" not in compile_catalog(catalog)


def test_an_untranslated_plural_falls_back_to_the_english_not_to_an_empty_string() -> None:
    import gettext

    catalog = _catalog((("%(n)s session", "%(n)s sessions"), ("", ""), False))
    compiled = gettext.GNUTranslations(BytesIO(compile_catalog(catalog)))
    assert compiled.ngettext("%(n)s session", "%(n)s sessions", 2) == "%(n)s sessions"


def _write_po(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_compilemessages_writes_mo_files_that_gettext_reads_and_check_fails_when_stale(
    tmp_path: Path, settings: pytest.FixtureRequest
) -> None:
    po = tmp_path / "es" / "LC_MESSAGES" / "django.po"
    _write_po(po, _catalog(("Save", "Guardar", False)))
    settings.LOCALE_PATHS = [str(tmp_path)]  # type: ignore[attr-defined]

    with pytest.raises(CommandError):  # no .mo yet
        call_command("compilemessages", "--check", stdout=StringIO())
    out = StringIO()
    call_command("compilemessages", stdout=out)
    assert "compiled" in out.getvalue()
    assert mo_translations(po.with_suffix(".mo")) == {("Save", None): "Guardar"}
    import gettext

    with po.with_suffix(".mo").open("rb") as handle:
        assert gettext.GNUTranslations(handle).gettext("Save") == "Guardar"

    before = po.with_suffix(".mo").stat().st_mtime_ns
    assert compile_file(po).changed is False  # a second run rewrites nothing
    assert po.with_suffix(".mo").stat().st_mtime_ns == before

    _write_po(po, _catalog(("Save", "Guardar cambios", False)))
    with pytest.raises(CommandError, match="out of date"):
        call_command("compilemessages", "--check", stdout=StringIO())


def test_a_po_with_an_empty_language_header_still_compiles_with_its_plural_forms(
    tmp_path: Path,
) -> None:
    """makemessages leaves "Language:" empty in a new .po; the .mo must still carry Spanish plurals
    (three forms), or gettext would pick forms by the English rule."""
    import gettext

    po = tmp_path / "es" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: \\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=3; plural=n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;\\n"\n\n'
        'msgid "%(n)s day"\nmsgid_plural "%(n)s days"\n'
        'msgstr[0] "%(n)s día"\nmsgstr[1] "%(n)s de días"\nmsgstr[2] "%(n)s días"\n',
        encoding="utf-8",
    )
    compiled = gettext.GNUTranslations(BytesIO(compile_catalog(read_catalog(po))))
    assert compiled.ngettext("%(n)s day", "%(n)s days", 1_000_000) == "%(n)s de días"
    assert compiled.ngettext("%(n)s day", "%(n)s days", 3) == "%(n)s días"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU msgfmt is not installed")
@pytest.mark.parametrize("po", CATALOGS, ids=_id)
def test_babels_mo_answers_what_gnu_msgfmt_would(po: Path, tmp_path: Path) -> None:
    """The committed .mo (Babel) and GNU msgfmt's agree on every message and on the plural rule."""
    import gettext

    reference = tmp_path / "msgfmt.mo"
    msgfmt = shutil.which("msgfmt")
    assert msgfmt is not None
    # Our own file names, no shell.
    subprocess.run([msgfmt, "-o", str(reference), str(po)], check=True, capture_output=True)  # noqa: S603
    with reference.open("rb") as a, po.with_suffix(".mo").open("rb") as b:
        gnu, ours = gettext.GNUTranslations(a), gettext.GNUTranslations(b)
    gnu_messages = {k: v for k, v in gnu._catalog.items() if k != ""}  # type: ignore[attr-defined]
    our_messages = {k: v for k, v in ours._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert gnu_messages == our_messages
    assert [gnu.plural(n) for n in (0, 1, 2, 1_000_000)] == [  # type: ignore[attr-defined]
        ours.plural(n)  # type: ignore[attr-defined]
        for n in (0, 1, 2, 1_000_000)
    ]
