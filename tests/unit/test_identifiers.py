"""Subscriber codes, application numbers and phone numbers as a citizen types them."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from workflow.identifiers import (
    AzPhoneRules,
    InvalidApplicationNumber,
    InvalidPhone,
    InvalidSubscriberCode,
    SubscriberCodeFormat,
    check_application_number,
    check_subscriber_code,
    make_subscriber_code,
    new_application_number,
    normalize_az_phone,
    normalize_subscriber_code,
)

FMT = SubscriberCodeFormat()
CODES = [make_subscriber_code(n) for n in (1, 7, 123456789, 400012345, 987654321, 555000111)]


def _single_digit_errors(code: str):
    for i, ch in enumerate(code):
        for d in "0123456789":
            if d != ch:
                yield code[:i] + d + code[i + 1 :]


def _adjacent_transpositions(code: str):
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            yield code[:i] + code[i + 1] + code[i] + code[i + 2 :]


# -- subscriber codes ---------------------------------------------------------------------------


def test_generated_codes_are_valid_and_have_the_configured_length():
    for code in CODES:
        assert len(code) == 10 and code.isdigit()
        assert check_subscriber_code(code) == code
    short = SubscriberCodeFormat(length=6)
    code = make_subscriber_code(4242, short)
    assert len(code) == 6 and check_subscriber_code(code, short) == code


@pytest.mark.parametrize("code", CODES)
def test_every_single_digit_error_is_caught(code):
    for typo in _single_digit_errors(code):
        with pytest.raises(InvalidSubscriberCode) as err:
            check_subscriber_code(typo)
        assert err.value.reason == "check_digit", typo


@pytest.mark.parametrize("code", CODES)
def test_every_adjacent_transposition_is_caught(code):
    swaps = list(_adjacent_transpositions(code))
    assert swaps  # the sample codes have neighbours that differ
    for typo in swaps:
        with pytest.raises(InvalidSubscriberCode) as err:
            check_subscriber_code(typo)
        assert err.value.reason == "check_digit", typo


def test_all_adjacent_digit_pairs_are_caught_including_the_check_digit():
    # Exhaustive over every pair of neighbouring digits, in every position of a code.
    body = "3141592"
    for a in "0123456789":
        for b in "0123456789":
            if a == b:
                continue
            for pos in range(len(body) + 1):
                code = make_subscriber_code(int(body[:pos] + a + b + body[pos:]))
                for typo in _adjacent_transpositions(code):
                    with pytest.raises(InvalidSubscriberCode):
                        check_subscriber_code(typo)


@pytest.mark.parametrize(
    "typed",
    [
        "012 345 678 9",
        "0123-456-789",
        " 0123.456.789 ",
        "0123\u00a0456\u00a0789",
        "０１２３４５６７８９",
        "0123\u2013456\u2013789",
    ],
)
def test_separators_and_full_width_digits_are_forgiven(typed):
    plain = re.sub(r"\D", "", typed.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    assert normalize_subscriber_code(typed) == plain
    code = make_subscriber_code(int(plain[:9]))
    spaced = " ".join([code[:3], code[3:6], code[6:]])
    assert check_subscriber_code(spaced) == code
    assert check_subscriber_code(code[:4] + "-" + code[4:]) == code


def test_each_subscriber_code_error_has_its_own_message_that_says_what_to_do():
    good = CODES[3]
    bad_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    cases = {
        "empty": "  ",
        "characters": "12345A7890",
        "length": good[:-2],
        "check_digit": bad_check,
    }
    messages = {}
    for reason, raw in cases.items():
        with pytest.raises(InvalidSubscriberCode) as err:
            check_subscriber_code(raw)
        assert err.value.reason == reason
        text = err.value.message.render()
        assert "bill" in text  # points to where the code is printed
        messages[reason] = err.value.message.text
    assert len(set(messages.values())) == 4
    with pytest.raises(InvalidSubscriberCode) as err:
        check_subscriber_code("12345")
    assert err.value.message.params == {"length": 10, "count": 5}
    assert "10 digits long, you entered 5" in err.value.message.render()


def test_make_subscriber_code_refuses_numbers_that_do_not_fit():
    with pytest.raises(ValueError):
        make_subscriber_code(10**9)
    with pytest.raises(ValueError):
        make_subscriber_code(-1)


# -- application numbers ------------------------------------------------------------------------

APP_RE = re.compile(r"^\d{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_application_number_format_and_year():
    number = new_application_number(date(2026, 3, 14), random.Random(1))
    assert APP_RE.match(number), number
    assert number.startswith("2026-")
    assert check_application_number(number) == number
    # the default source is the secrets module
    assert APP_RE.match(new_application_number(date(2026, 1, 1)))


def test_ten_thousand_seeded_numbers_are_unique_and_valid():
    rng = random.Random(20260314)
    numbers = [new_application_number(date(2026, 3, 14), rng) for _ in range(10_000)]
    assert len(set(numbers)) == 10_000
    assert all(check_application_number(n) == n for n in numbers[:500])
    # Consecutive numbers share no visible order: the random parts are not sorted.
    assert numbers[:50] != sorted(numbers[:50])


def test_check_character_catches_every_typo_and_swap():
    number = new_application_number(date(2026, 3, 14), random.Random(7))
    plain = number.replace("-", "")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for i, ch in enumerate(plain):
        for other in alphabet:
            if other != ch and not (i < 4 and not other.isdigit()):
                with pytest.raises(InvalidApplicationNumber) as err:
                    check_application_number(plain[:i] + other + plain[i + 1 :])
                assert err.value.reason == "check_character"
    for i in range(len(plain) - 1):
        if plain[i] != plain[i + 1]:
            with pytest.raises(InvalidApplicationNumber):
                check_application_number(plain[:i] + plain[i + 1] + plain[i] + plain[i + 2 :])


def test_application_number_normalisation_of_case_spaces_and_look_alikes():
    # Find a seeded number that contains 0 and 1, then type it the way people do.
    rng = random.Random(3)
    number = next(
        n
        for n in (new_application_number(date(2026, 1, 1), rng) for _ in range(1000))
        if "0" in n[5:] and "1" in n[5:]
    )
    typed = number[5:].lower().replace("0", "o").replace("1", "l", 1).replace("1", "I")
    assert check_application_number(f" 2026 {typed.replace('-', ' ')} ") == number
    assert check_application_number(number.replace("-", "")) == number
    assert check_application_number(number.lower()) == number


def test_application_number_errors_are_distinct():
    cases = {"empty": "", "characters": "2026-K7M4-Q9X#", "length": "2026-K7M4-Q9"}
    texts = set()
    for reason, raw in cases.items():
        with pytest.raises(InvalidApplicationNumber) as err:
            check_application_number(raw)
        assert err.value.reason == reason
        texts.add(err.value.message.text)
    number = new_application_number(date(2026, 1, 1), random.Random(5))
    last = number[-1]
    wrong = number[:-1] + ("0" if last != "0" else "1")
    with pytest.raises(InvalidApplicationNumber) as err:
        check_application_number(wrong)
    texts.add(err.value.message.text)
    assert len(texts) == 4
    with pytest.raises(InvalidApplicationNumber):  # U is not in Crockford's alphabet
        check_application_number("2026-UUUU-UUUU")


# -- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, e164",
    [
        ("+994 50 123 45 67", "+994501234567"),
        ("994501234567", "+994501234567"),
        ("0501234567", "+994501234567"),
        ("050-123-45-67", "+994501234567"),
        ("(050) 123 45 67", "+994501234567"),
        ("50 123 45 67", "+994501234567"),
        ("00994 50 123 45 67", "+994501234567"),
        ("+994 (0)50 123-45-67", "+994501234567"),
        ("+994.55.765.43.21", "+994557654321"),
        ("077 300 00 00", "+994773000000"),
        ("010 222 33 44", "+994102223344"),
        ("099\u00a0111\u00a022\u00a033", "+994991112233"),
        ("012 404 12 34", "+994124041234"),
        ("(022) 256 12 34", "+994222561234"),
        ("+994 36 544 00 11", "+994365440011"),
    ],
)
def test_common_spellings_are_normalised_to_e164(typed, e164):
    assert normalize_az_phone(typed) == e164


@pytest.mark.parametrize(
    "typed, reason",
    [
        ("", "empty"),
        ("050 123 45 6x", "characters"),
        ("+7 912 345 67 89", "country"),
        ("0044 20 7946 0958", "country"),
        ("404 12 34", "length"),  # a Baku number without its area code
        ("050 123 45 678", "length"),
        ("030 123 45 67", "prefix"),  # no such operator
        ("+994 88 123 45 67", "prefix"),
        ("050 123 45 67 ext 12", "characters"),
    ],
)
def test_numbers_that_cannot_be_azerbaijani_are_rejected(typed, reason):
    with pytest.raises(InvalidPhone) as err:
        normalize_az_phone(typed)
    assert err.value.reason == reason
    assert err.value.message.render()  # renders with its parameters


def test_prefixes_are_configurable():
    rules = AzPhoneRules(mobile_prefixes=frozenset({"50"}), landline_prefixes=frozenset())
    assert normalize_az_phone("050 123 45 67", rules) == "+994501234567"
    with pytest.raises(InvalidPhone):
        normalize_az_phone("055 123 45 67", rules)
