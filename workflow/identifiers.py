"""Identifiers a citizen types or reads: subscriber codes, application numbers, phone numbers.

Each ``check_*``/``normalize_*`` function returns the canonical form or raises an exception
carrying a translatable :class:`~workflow.i18n.Message` that names what to do.

Subscriber code (abonent kodu)
    The utility's real format is not published, so it is configurable
    (:class:`SubscriberCodeFormat`): digits only, a fixed length that includes one trailing
    check digit. The check digit uses the **Damm algorithm** (a totally anti-symmetric
    quasigroup of order 10). It was chosen over the alternatives because it provably detects
    *every* single-digit substitution and *every* adjacent transposition (including a swap with
    the check digit itself), yields one decimal digit (ISO 7064 MOD 11-2 needs an "X"), and
    needs no weights: Luhn misses ``09``↔``90``; ISO 7064 MOD 11-10 is equally good on single
    errors but Damm is a single table lookup per digit and easy to reproduce in a spreadsheet.

Application number
    ``YYYY-XXXX-XXXC``: the year, seven random symbols of Crockford's base32 alphabet
    (``0-9A-Z`` without ``I L O U``) and one check symbol. The random part is drawn from a
    cryptographic source by default, so numbers reveal nothing about order or volume.
    Collision space: 32**7 = 34,359,738,368 numbers per year. Even at 24 million applications
    in one year (every household of Azerbaijan, every month) the chance that a new number hits
    an existing one is below 0.07 %; the database's unique constraint catches it and the caller
    draws again. The check symbol is a Damm-style check over GF(32) (``c' = 2*c XOR s``), which
    catches every single mistyped symbol and every swap of two neighbours, year included.
    A number alone must not unlock an application: the status page also asks for the
    subscriber code and is rate-limited (about 1 in 1,400 random guesses would hit *some*
    number in a year at the volume above).

Phone numbers (:func:`normalize_az_phone`)
    Accepted: nine national digits ``PP NNN NN NN`` written with or without ``+994``/``994``/
    ``00994``, with or without the trunk ``0``, with spaces, hyphens, dots, slashes or
    brackets, and the ``+994 (0)50`` habit. ``PP`` must be a mobile operator prefix (10, 50,
    51, 55, 60, 70, 77, 99) or a geographic area code: 12 Baku, 18 Sumgayit/Absheron,
    20-26 regions, 36 Nakhchivan (:class:`AzPhoneRules`, configurable). Rejected: foreign
    numbers, seven-digit local numbers without an area code, letters, extensions.
"""

from __future__ import annotations

import random
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from workflow.i18n import N_, Message
from workflow.normalise import ascii_digits

__all__ = [
    "SubscriberCodeFormat",
    "InvalidSubscriberCode",
    "normalize_subscriber_code",
    "check_subscriber_code",
    "make_subscriber_code",
    "damm_check_digit",
    "damm_valid",
    "InvalidApplicationNumber",
    "new_application_number",
    "check_application_number",
    "AzPhoneRules",
    "InvalidPhone",
    "normalize_az_phone",
]


class InvalidIdentifier(ValueError):
    """Base class: ``message`` is shown to the user, ``reason`` is a stable machine code."""

    def __init__(self, message: Message, reason: str):
        super().__init__(message.render())
        self.message = message
        self.reason = reason


class InvalidSubscriberCode(InvalidIdentifier):
    """reason: ``empty``, ``characters``, ``length`` or ``check_digit``."""


class InvalidApplicationNumber(InvalidIdentifier):
    """reason: ``empty``, ``characters``, ``length`` or ``check_character``."""


class InvalidPhone(InvalidIdentifier):
    """reason: ``empty``, ``characters``, ``length``, ``country`` or ``prefix``."""


# Separators people type or paste inside codes: whitespace (incl. no-break and thin spaces),
# hyphens and dashes of every kind, dots, middle dots, underscores and slashes.
_SEPARATORS = re.compile(r"[\s\u00a0\u2007\u202f\u200b\-\u2010-\u2015\u2212.\u00b7_/]+")


def _fold(raw: str) -> str:
    """NFKC-fold, map every Unicode decimal digit to ASCII and drop separators."""
    return _SEPARATORS.sub("", ascii_digits(unicodedata.normalize("NFKC", raw or "")))


# ---------------------------------------------------------------------------------------------
# Subscriber codes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriberCodeFormat:
    """Shape of a subscriber code: ``length`` digits, the last one a Damm check digit."""

    length: int = 10

    def __post_init__(self) -> None:
        if self.length < 2:
            raise ValueError("a subscriber code needs at least one digit and the check digit")


# Damm's totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _damm_interim(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return interim


def damm_check_digit(digits: str) -> str:
    """The check digit to append to ``digits`` (ASCII digits only)."""
    return str(_damm_interim(digits))


def damm_valid(code: str) -> bool:
    """True when ``code`` (ASCII digits, check digit last) passes the Damm check."""
    return bool(code) and _damm_interim(code) == 0


def normalize_subscriber_code(raw: str | None) -> str:
    """Strip the spaces, hyphens, dots and similar separators a person may have typed."""
    return _fold(raw or "")


_ASCII_DIGITS = frozenset("0123456789")


def check_subscriber_code(
    raw: str | None, fmt: SubscriberCodeFormat = SubscriberCodeFormat()
) -> str:
    """Return the normalised code or raise :class:`InvalidSubscriberCode`."""
    code = normalize_subscriber_code(raw)
    params = {"length": fmt.length}
    if not code:
        raise InvalidSubscriberCode(
            Message(
                N_(
                    "Enter your subscriber code. It is printed on your water bill: %(length)s digits"
                ),
                params,
            ),
            "empty",
        )
    if not set(code) <= _ASCII_DIGITS:
        raise InvalidSubscriberCode(
            Message(
                N_(
                    "The subscriber code must contain only digits. Enter it as it is printed on your "
                    "bill: %(length)s digits"
                ),
                params,
            ),
            "characters",
        )
    if len(code) != fmt.length:
        raise InvalidSubscriberCode(
            Message(
                N_(
                    "The subscriber code must be %(length)s digits long, you entered %(count)s. Enter it "
                    "as it is printed on your bill"
                ),
                {**params, "count": len(code)},
            ),
            "length",
        )
    if not damm_valid(code):
        raise InvalidSubscriberCode(
            Message(
                N_(
                    "Check the subscriber code: a digit is wrong or two digits are swapped. Enter it as "
                    "it is printed on your bill"
                ),
                params,
            ),
            "check_digit",
        )
    return code


def make_subscriber_code(number: int, fmt: SubscriberCodeFormat = SubscriberCodeFormat()) -> str:
    """A valid code for sequence ``number`` (zero-padded, check digit appended). Demo data."""
    body_len = fmt.length - 1
    if number < 0 or number >= 10**body_len:
        raise ValueError(f"number must be between 0 and {10**body_len - 1}")
    body = f"{number:0{body_len}d}"
    return body + damm_check_digit(body)


# ---------------------------------------------------------------------------------------------
# Application numbers
# ---------------------------------------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_VALUE = {ch: i for i, ch in enumerate(CROCKFORD)}
# Crockford's decoding rules: letters that look like digits read as those digits.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_RANDOM_SYMBOLS = 7
_APP_LENGTH = 4 + _RANDOM_SYMBOLS + 1  # year, random part, check symbol


def _gf32_double(x: int) -> int:
    """Multiply by the generator ``x`` in GF(2^5) with modulus x^5 + x^2 + 1."""
    x <<= 1
    return x ^ 0b100101 if x & 0b100000 else x


def _crockford_interim(symbols: str) -> int:
    # q(c, s) = 2c XOR s over GF(32) is a quasigroup in which (q(q(c,a),b) == q(q(c,b),a))
    # implies a == b, so single substitutions and adjacent transpositions are always caught.
    interim = 0
    for ch in symbols:
        interim = _gf32_double(interim) ^ _CROCKFORD_VALUE[ch]
    return interim


def _crockford_check(symbols: str) -> str:
    return CROCKFORD[_gf32_double(_crockford_interim(symbols))]


class _RandomSource(Protocol):
    def choice(self, seq: str) -> str: ...


def new_application_number(when: date, rng: random.Random | _RandomSource = secrets) -> str:
    """A fresh number such as ``2026-K7M4-Q9XD`` for an application created on ``when``.

    ``rng`` is anything with ``choice`` (the ``secrets`` module by default; a seeded
    ``random.Random`` in tests and demo data).
    """
    year = f"{when.year:04d}"
    body = year + "".join(rng.choice(CROCKFORD) for _ in range(_RANDOM_SYMBOLS))
    full = body + _crockford_check(body)
    return f"{full[:4]}-{full[4:8]}-{full[8:]}"


def check_application_number(raw: str | None) -> str:
    """Return the canonical ``YYYY-XXXX-XXXX`` form or raise :class:`InvalidApplicationNumber`.

    Case, separators and the look-alikes O→0, I/L→1 are forgiven.
    """
    text = _fold(raw or "").upper().translate(_CONFUSABLE)
    example = {"example": "2026-K7M4-Q9XD"}
    if not text:
        raise InvalidApplicationNumber(
            Message(
                N_(
                    "Enter the application number, like %(example)s. It is on your confirmation page "
                    "and in the e-mail we sent you"
                ),
                example,
            ),
            "empty",
        )
    if any(ch not in _CROCKFORD_VALUE for ch in text) or not text[:4].isdigit():
        raise InvalidApplicationNumber(
            Message(
                N_(
                    "The application number must be a year followed by letters and digits, like "
                    "%(example)s. Copy it from your confirmation page"
                ),
                example,
            ),
            "characters",
        )
    if len(text) != _APP_LENGTH:
        raise InvalidApplicationNumber(
            Message(
                N_(
                    "The application number must have %(length)s letters and digits, like %(example)s. "
                    "Copy it from your confirmation page"
                ),
                {**example, "length": _APP_LENGTH},
            ),
            "length",
        )
    if _crockford_interim(text) != 0:
        raise InvalidApplicationNumber(
            Message(
                N_(
                    "Check the application number: a letter or digit is wrong or two are swapped. Copy "
                    "it from your confirmation page"
                ),
                example,
            ),
            "check_character",
        )
    return f"{text[:4]}-{text[4:8]}-{text[8:]}"


# ---------------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AzPhoneRules:
    """Two-digit prefixes accepted after +994 (operators and geographic area codes)."""

    mobile_prefixes: frozenset[str] = frozenset({"10", "50", "51", "55", "60", "70", "77", "99"})
    landline_prefixes: frozenset[str] = frozenset(
        {"12", "18", "20", "21", "22", "23", "24", "25", "26", "36"}
    )
    country_code: str = "994"
    national_digits: int = 9

    def __post_init__(self) -> None:  # settings may hand in lists or "10, 50" strings
        for name in ("mobile_prefixes", "landline_prefixes"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = value.split(",")
            object.__setattr__(self, name, frozenset(str(v).strip() for v in value))


_PHONE_SEPARATORS = re.compile(r"[\s\u00a0\u2007\u202f\-\u2010-\u2015\u2212./()\[\]]+")


def normalize_az_phone(raw: str | None, rules: AzPhoneRules = AzPhoneRules()) -> str:
    """Return an Azerbaijani phone number in E.164 (``+994501234567``) or raise InvalidPhone."""
    example = {"example": "050 123 45 67", "international": "+994 50 123 45 67"}
    text = _PHONE_SEPARATORS.sub("", ascii_digits(unicodedata.normalize("NFKC", raw or "")))
    if not text:
        raise InvalidPhone(Message(N_("Enter a phone number, like %(example)s"), example), "empty")
    plus = text.startswith("+")
    digits = text[1:] if plus else text
    if not digits or not set(digits) <= _ASCII_DIGITS:
        raise InvalidPhone(
            Message(
                N_("Enter a phone number using only digits, spaces and a + sign, like %(example)s"),
                example,
            ),
            "characters",
        )
    cc, n = rules.country_code, rules.national_digits
    if digits.startswith("00"):
        plus, digits = True, digits[2:]
    if plus and not digits.startswith(cc):
        raise InvalidPhone(
            Message(
                N_(
                    "Enter an Azerbaijani phone number: it starts with +994, like %(international)s"
                ),
                example,
            ),
            "country",
        )
    national: str | None = None
    if digits.startswith(cc) and len(digits) in (len(cc) + n, len(cc) + n + 1):
        national = digits[len(cc) :]
        if len(national) == n + 1:  # "+994 (0)50 ..." keeps the trunk zero
            national = national[1:] if national.startswith("0") else None
    elif plus:
        national = None
    elif len(digits) == n + 1 and digits.startswith("0"):
        national = digits[1:]
    elif len(digits) == n and not digits.startswith("0"):
        national = digits
    if national is None or len(national) != n:
        raise InvalidPhone(
            Message(
                N_(
                    "Enter the full phone number with its operator or area code, like %(example)s or "
                    "%(international)s"
                ),
                example,
            ),
            "length",
        )
    prefix = national[:2]
    if prefix not in rules.mobile_prefixes and prefix not in rules.landline_prefixes:
        raise InvalidPhone(
            Message(
                N_(
                    "There is no Azerbaijani operator or area code 0%(prefix)s. Check the phone number"
                ),
                {**example, "prefix": prefix},
            ),
            "prefix",
        )
    return "+" + cc + national
