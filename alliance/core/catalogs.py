"""Translation catalogs: compile .po to .mo with Babel, and find what is wrong with a catalog.

Why Babel and not Django's `compilemessages`: that one runs GNU msgfmt, which a fresh machine with only
python3 does not have. Babel is pure Python and pinned in uv.lock. The compiled .mo files are committed,
so a deployment never compiles; `alliance compilemessages` rewrites them after a .po changes and
tests/core/test_catalogs.py fails when one is stale.

The same functions serve the command and the tests, so "up to date" means one thing in both.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

# printf-style placeholders as Python's % operator reads them: %(name)s, %s, %d, %.1f; "%%" is a
# literal percent sign and is skipped by the alternation's first branch.
_PERCENT = re.compile(
    r"%%|%(?:\((?P<name>[^)]+)\))?[#0 +-]*\d*(?:\.\d+)?(?P<type>[sdifrxXeEgGcou])"
)
# str.format placeholders: {name} or {0}; "{{" and "}}" are literal braces.
_BRACE = re.compile(r"\{\{|\}\}|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*|\d*)(?:[!:][^{}]*)?\}")

Translations = dict[tuple[str | tuple[str, ...], str | None], str | tuple[str, ...]]


@dataclass(frozen=True)
class CompileResult:
    po: Path
    mo: Path
    changed: bool


def catalog_files(locale_paths: Iterable[Path | str]) -> list[Path]:
    """Every .po under LOCALE_PATHS (<path>/<language>/LC_MESSAGES/<domain>.po), sorted."""
    files: list[Path] = []
    for base in locale_paths:
        files.extend(Path(base).glob("*/LC_MESSAGES/*.po"))
    return sorted(files)


def language_of(po: Path) -> str:
    return po.parent.parent.name


def read_catalog(po: Path) -> Catalog:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language_of(po), abort_invalid=True)
    # makemessages writes an empty "Language:" header into a new .po, and Babel then forgets the
    # language and leaves Plural-Forms out of the .mo (gettext would fall back to English plurals).
    if catalog.locale is None:
        catalog.locale = language_of(po)
    return catalog


def compile_catalog(catalog: Catalog) -> bytes:
    """The .mo bytes for a catalog: fuzzy entries are left out, as msgfmt does by default, so a
    guessed translation never reaches a page. So are untranslated plurals: Babel writes ("", "") as
    a translation and gettext would then show an empty string instead of the English."""
    compiled = copy.deepcopy(catalog)
    for message in list(_entries(compiled)):
        if not _translated(message):
            compiled.delete(message.id, message.context)
    buffer = io.BytesIO()
    write_mo(buffer, compiled, use_fuzzy=False)
    return buffer.getvalue()


def compile_file(po: Path, *, write: bool = True) -> CompileResult:
    """Compile one .po next to itself; the .mo is only rewritten when its bytes change, so running
    the command twice leaves the working tree untouched."""
    mo = po.with_suffix(".mo")
    data = compile_catalog(read_catalog(po))
    changed = not mo.exists() or mo.read_bytes() != data
    if changed and write:
        mo.write_bytes(data)
    return CompileResult(po=po, mo=mo, changed=changed)


def translations(catalog: Catalog) -> Translations:
    """What a compiled catalog answers: (msgid, context) -> msgstr, translated entries only."""
    # read_mo gives a plural's forms as a list, read_po as a tuple: compare them as tuples.
    return {
        (_frozen(message.id), _text(message.context)): _frozen(message.string)
        for message in _entries(catalog)
        if _translated(message) and not message.fuzzy
    }


def _text(context: str | bytes | None) -> str | None:
    # read_mo leaves a message context as bytes.
    return context.decode("utf-8") if isinstance(context, bytes) else context


def _frozen(value: str | tuple[str, ...] | list[str] | None) -> str | tuple[str, ...]:
    if value is None:
        return ""
    return value if isinstance(value, str) else tuple(value)


def mo_translations(mo: Path) -> Translations:
    with mo.open("rb") as handle:
        return translations(read_mo(handle))


def _entries(catalog: Catalog) -> Iterator[Message]:
    # The header (msgid "") is metadata, not a message.
    return (message for message in catalog if message.id)


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return bool(strings) and all(strings)


def untranslated(catalog: Catalog) -> list[str]:
    return [_label(m) for m in _entries(catalog) if not _translated(m)]


def fuzzy(catalog: Catalog) -> list[str]:
    return [_label(m) for m in _entries(catalog) if m.fuzzy]


def placeholders(text: str) -> list[str]:
    """The placeholders a string carries, as a sorted list (a repeated one counts once)."""
    found: set[str] = set()
    for match in _PERCENT.finditer(text):
        if match.group(0) != "%%":
            found.add(
                f"%({match.group('name')}){match.group('type')}"
                if match.group("name")
                else "%" + match.group("type")
            )
    for match in _BRACE.finditer(text):
        if match.group(0) not in ("{{", "}}"):
            found.add("{" + (match.group("name") or "") + "}")
    return sorted(found)


def placeholder_mismatches(catalog: Catalog) -> list[str]:
    """Entries whose translation drops, adds or renames a placeholder. A plural's singular form may
    leave out the count (Spanish "Una sesión" for "%(n)s session"), but every other form must carry
    what msgid_plural carries; a translation never invents a placeholder."""
    problems: list[str] = []
    for message in _entries(catalog):
        if not _translated(message):
            continue
        if isinstance(message.id, tuple):
            singular, plural = (set(placeholders(str(text))) for text in message.id[:2])
            forms = _frozen(message.string)
            forms = forms if isinstance(forms, tuple) else (forms,)
            allowed = singular | plural
            for index, form in enumerate(forms):
                found = set(placeholders(form))
                if not found <= allowed or (index > 0 and found != plural):
                    problems.append(
                        f"{_label(message)} [form {index}]: {sorted(found)} vs {sorted(plural)}"
                    )
        else:
            expected, found_list = placeholders(str(message.id)), placeholders(str(message.string))
            if expected != found_list:
                problems.append(f"{_label(message)}: {found_list} vs {expected}")
    return problems


def _label(message: Message) -> str:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    where = f" (context {message.context!r})" if message.context else ""
    return f"{msgid[:70]!r}{where}"
