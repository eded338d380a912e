"""The one normaliser of typed answers: what it maps deliberately, what it refuses, and that any text
gives either a clean value or its own refusal."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow import normalise
from workflow.identifiers import (
    check_subscriber_code,
    make_subscriber_code,
    normalize_az_phone,
)
from workflow.normalise import FieldRules, Refused

RULES = FieldRules()

# one digit string per script: ASCII 0-9 written in each script's own digits
SCRIPTS = {
    "Arabic-Indic": "٠١٢٣٤٥٦٧٨٩",
    "Extended Arabic-Indic (Persian)": "۰۱۲۳۴۵۶۷۸۹",
    "Devanagari": "०१२३४५६७८९",
    "Bengali": "০১২৩৪৫৬৭৮৯",
    "Thai": "๐๑๒๓๔๕๖๗๘๙",
    "Full-width": "０１２３４５６７８９",
    "Mathematical bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
    "Myanmar": "၀၁၂၃၄၅၆၇၈၉",
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_decimal_digits_of_every_script_become_ascii(script):
    assert normalise.digits(SCRIPTS[script]) == "0123456789"


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("1207", "1207"),
        (" 1 207 ", "1207"),
        ("00009", "00009"),
        ("１２０７", "1207"),
        ("¹²⁰⁷", "1207"),
        ("١٢٠٧", "1207"),
        ("⑫", "12"),
        ("", ""),
    ],
)
def test_readings_are_stored_as_ascii_digits(raw, stored):
    assert normalise.digits(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "12a4",
        "1_000",
        "-5",
        "+5",
        "1.5",
        "1e3",
        "½",
        "Ⅻ",
        "12\x00",
        "1\u202e2",
        "0x1F",
        "١٢\u200f",
        "12 m³",
    ],
)
def test_anything_but_digits_is_refused_as_a_reading(raw):
    with pytest.raises(Refused):
        normalise.digits(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "a\x00b",
        "a\x07b",
        "a\x1bb",
        "a\x7fb",
        "a\x85b",
        "a\u202eb",
        "a\u2066b",
        "a\u200fb",
        "a\u061cb",
        "a\ud800b",
        "a\ue000b",
    ],
)
def test_control_bidi_surrogate_and_private_characters_are_refused(raw):
    with pytest.raises(Refused) as err:
        normalise.text(raw)
    assert (
        err.value.message.text
        == "Remove the control or invisible formatting characters from this answer"
    )
    with pytest.raises(Refused):
        normalise.text(raw, multiline=True)


def test_a_note_keeps_newlines_and_tabs_and_other_fields_do_not():
    assert (
        normalise.text("line one\r\n\tline two\rthree ", multiline=True)
        == "line one\n\tline two\nthree"
    )
    with pytest.raises(Refused):
        normalise.text("line one\nline two")


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("PL004512", "PL004512"),
        ("pl 004-512", "PL004512"),
        ("ＰＬ００４５１２", "PL004512"),
        ("PL٠٠٤٥١٢", "PL004512"),
        ("12345", "12345"),
        ("", ""),
    ],
)
def test_seals_are_stored_in_one_form(raw, stored):
    assert normalise.seal(raw, RULES) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "РL004512",  # Cyrillic Р
        "PL00451２\u0301",
        "PL'; DROP TABLE meter;--",
        "9" * 80,
        "PL",
        "ÇL004512",
        "PL004512\x00",
        "PL 0045 12 🙂",
    ],
)
def test_seals_outside_the_pattern_are_refused(raw):
    with pytest.raises(Refused) as err:
        normalise.seal(raw, RULES)
    assert err.value.reason in ("pattern", "characters")


def test_the_seal_pattern_comes_from_the_settings():
    rules = FieldRules(seal_pattern=r"S[0-9]{6}", seal_example="S123456")
    assert normalise.seal("s 123 456", rules) == "S123456"
    with pytest.raises(Refused) as err:
        normalise.seal("PL004512", rules)
    assert err.value.message.params == {"example": "S123456"}
    with pytest.raises(ValueError, match="not a regular expression"):
        FieldRules(seal_pattern="[A-Z")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", 1),
        ("2147483647", 2147483647),
        (" 42 ", 42),
        (7, 7),
        ("2147483648", None),
        ("99999999999999999999", None),
        ("0", None),
        ("-1", None),
        ("abc", None),
        ("²", None),
        ("١٢", None),
        ("1" * 300, None),
        ("", None),
        (None, None),
        (True, None),
        (2**40, None),
    ],
)
def test_record_ids_are_positive_ascii_integers_within_postgresql_integer(raw, expected):
    assert normalise.record_id(raw) == expected


def test_subscriber_codes_and_phones_accept_unicode_digits_deliberately():
    code = make_subscriber_code(1234)
    arabic = code.translate(str.maketrans("0123456789", SCRIPTS["Arabic-Indic"]))
    assert check_subscriber_code(arabic) == code
    assert normalize_az_phone("٠٥٠ ١٢٣ ٤٥ ٦٧") == "+994501234567"


# -- properties ---------------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(codec=None), max_size=200)
_REFUSED_CATEGORIES = ("Cc", "Cs", "Co", "Cn")


def _clean(value: str, multiline: bool) -> bool:
    return all(
        (multiline and ch in "\n\t")
        or (
            ch not in normalise.BIDI_CONTROLS
            and unicodedata.category(ch) not in _REFUSED_CATEGORIES
        )
        for ch in value
    )


@settings(max_examples=500, deadline=500)
@given(ANY_TEXT, st.booleans())
def test_any_text_is_clean_nfkc_or_refused(raw, multiline):
    try:
        value = normalise.text(raw, multiline=multiline)
    except Refused as err:
        assert err.reason == "characters"
        return
    assert _clean(value, multiline) and value == value.strip()
    assert normalise.text(value, multiline=multiline) == value  # normalising twice changes nothing


@settings(max_examples=500, deadline=500)
@given(st.one_of(ANY_TEXT, st.text(st.characters(categories=("Nd", "Zs")), max_size=40)))
def test_any_text_is_ascii_digits_or_refused_as_a_reading(raw):
    try:
        value = normalise.digits(raw)
    except Refused:
        return
    assert value == "" or re.fullmatch("[0-9]+", value, flags=re.ASCII)


@settings(max_examples=500, deadline=500)
@given(st.one_of(ANY_TEXT, st.from_regex(r"[A-Za-z]{0,4}[ -]?[0-9]{2,12}", fullmatch=True)))
def test_any_text_is_a_seal_matching_the_pattern_or_refused(raw):
    try:
        value = normalise.seal(raw, RULES)
    except Refused:
        return
    assert value == "" or re.fullmatch(RULES.seal_pattern, value, flags=re.ASCII)
    assert normalise.seal(value, RULES) == value


@settings(max_examples=300, deadline=500)
@given(st.one_of(ANY_TEXT, st.integers(), st.none()))
def test_any_value_is_a_record_id_in_range_or_none(raw):
    value = normalise.record_id(raw)
    assert value is None or 1 <= value <= normalise.MAX_RECORD_ID
