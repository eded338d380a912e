"""Every message is translated into az, en and ru, and the catalogues cover the source."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from engine.settings import PROJECT_ROOT
from tests.web.conftest import Browser

TRANSLATIONS = PROJECT_ROOT / "web" / "translations"
LOCALES = ("az", "en", "ru")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def _source_msgids() -> set[str]:
    with open(PROJECT_ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_has_a_translation(locale):
    catalog = _catalog(locale)
    messages = [m for m in catalog if m.id]
    assert messages
    untranslated = [
        m.id
        for m in messages
        if not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy
    ]
    assert not untranslated, f"{locale}: untranslated messages: {untranslated}"
    for m in messages:
        if isinstance(m.id, tuple):  # plural forms: as many as the language has, same placeholders
            assert all(
                set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(m.id[0]))
                for form in m.string
            ), (locale, m.id)
            continue
        assert sorted(PLACEHOLDER.findall(str(m.id))) == sorted(
            PLACEHOLDER.findall(str(m.string))
        ), (locale, m.id)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_matches_the_po_file(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    assert compiled == {_key(m.id): _key(m.string) for m in _catalog(locale) if m.id}, (
        "run: pybabel compile -d web/translations"
    )


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _ids(catalog) -> set[str]:
    """Every msgid of the catalogue, the singular and plural of plural entries included."""
    found = set()
    for m in catalog:
        if m.id:
            found.update(m.id if isinstance(m.id, tuple) else [m.id])
    return found


def test_every_marked_string_in_the_source_is_in_the_catalogues():
    in_source = _source_msgids()
    assert "Müraciət et" not in in_source and "Apply" in in_source  # msgids are English
    for locale in LOCALES:
        missing = in_source - _ids(_catalog(locale))
        assert not missing, (
            f"{locale}: not in the catalogue (extract and update): {sorted(missing)}"
        )


def test_azerbaijani_uses_its_own_letters():
    text = " ".join(str(m.string) for m in _catalog("az") if m.id)
    for letter in "əğıöüçşİ":
        assert letter in text
    assert "Digər sayğac əlavə et" in text


def test_the_language_switcher_is_on_every_page_and_remembers_the_choice(client):
    browser = Browser(client)
    browser.get("/login")
    links = browser.doc.xpath("//nav[contains(@class, 'lang-switcher')]//a")
    assert {(a.get("hreflang"), a.get("href")) for a in links} == {
        ("en", "/login?lang=en"),
        ("ru", "/login?lang=ru"),
    }
    assert browser.doc.xpath(
        "//nav[contains(@class, 'lang-switcher')]//*[@aria-current]/@lang"
    ) == ["az"]
    browser.get("/login?next=%2Ftasks&lang=en")
    assert "Sign in" in browser.html
    assert browser.doc.xpath("//a[@hreflang='ru']/@href") == ["/login?next=%2Ftasks&lang=ru"]
    browser.get("/login")
    assert browser.doc.xpath("/html/@lang") == ["en"]
    browser.get("/login?lang=xx")  # an unknown language changes nothing
    assert browser.doc.xpath("/html/@lang") == ["en"]
    browser.get("/no-such-page")
    assert browser.response.status_code == 404 and "Page not found" in browser.html


def test_messages_formatted_in_english_are_translated_back(app):
    from web.i18n import translate
    from workflow.i18n import Message

    with app.test_request_context("/?lang=ru"):
        assert translate(Message("Meter %(number)s", {"number": 2})) == "Счётчик 2"
        assert translate({"text": "Meter %(number)s", "params": {"number": 3}}) == "Счётчик 3"
        # rendered in English by the domain or WTForms before the web layer saw them
        assert translate(
            "The subscriber code must be 10 digits long, you entered 5. Enter it as it is "
            "printed on your bill"
        ).startswith("Код абонента должен состоять из 10 цифр")
        assert (
            translate("Field cannot be longer than 32 characters.")
            == "Слишком длинный текст: допускается не более 32 символов."
        )
        assert translate("Something nobody translated") == "Something nobody translated"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_loaded_catalogue_lists_every_parameterised_message(app, locale):
    """Matching English text back to its msgid reads the msgids of the catalogues Flask-Babel
    loaded (Babel's ``Translations.files``, kept through ``merge``): all of them are there."""
    from flask_babel import get_translations

    from web.i18n import catalogue_msgids

    wanted = {m.id for m in _catalog(locale) if isinstance(m.id, str) and "%(" in m.id}
    with app.test_request_context(f"/?lang={locale}"):
        assert wanted and wanted <= set(catalogue_msgids(get_translations()))
