"""Everything a resident or staff member reads is in Indonesian: every translatable
string in the code has an Indonesian translation, and the compiled catalogues match
their sources. Run `make messages` after changing user-facing text."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

CATALOGUES = [Path(p) / "id" / "LC_MESSAGES" / "django.po" for p in settings.LOCALE_PATHS]

needs_gettext = pytest.mark.skipif(shutil.which("xgettext") is None,
                                   reason="GNU gettext (xgettext) is not installed")


@needs_gettext
def test_every_string_in_the_code_has_an_indonesian_translation(tmp_path, monkeypatch):
    # Extract afresh, the way `make messages` would, in a copy of the source tree:
    # makemessages writes to every `locale` folder it walks past, so run in the real
    # tree it would rewrite the real catalogues.
    for package in {Path(p).relative_to(settings.BASE_DIR).parts[0]
                    for p in settings.LOCALE_PATHS} | {"config"}:
        shutil.copytree(settings.BASE_DIR / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    copies = [tmp_path / Path(p).relative_to(settings.BASE_DIR) for p in settings.LOCALE_PATHS]
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=copies):
        call_command("makemessages", locale=["id"], no_obsolete=True, verbosity=0,
                     ignore_patterns=[".venv/*", "tests/*", "var/*", "staticfiles/*"])
    missing = []
    for copy in copies:
        po = polib.pofile(str(copy / "id" / "LC_MESSAGES" / "django.po"))
        for entry in po:
            if entry.obsolete:
                continue
            if not entry.translated() or "fuzzy" in entry.flags:
                missing.append(f"{copy.relative_to(tmp_path)}: {entry.msgid!r}")
    assert missing == []


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda p: str(p.parents[3].name))
def test_compiled_catalogues_match_their_sources(catalogue):
    po = polib.pofile(str(catalogue))
    mo_path = catalogue.with_suffix(".mo")
    assert mo_path.exists(), f"run `make messages` to compile {catalogue}"
    mo = polib.mofile(str(mo_path))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    sources = {(e.msgctxt, e.msgid): e.msgstr for e in po.translated_entries()
               if "fuzzy" not in e.flags}
    assert compiled == sources


def test_indonesian_is_the_default_and_english_is_available():
    assert settings.LANGUAGE_CODE == "id"
    with translation.override("id"):
        assert translation.gettext("Not found.") != "Not found."
    with translation.override("en"):
        assert translation.gettext("Not found.") == "Not found."
