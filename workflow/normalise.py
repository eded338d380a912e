"""What every typed answer goes through before it is checked or stored: one place for all forms.

Every text field is NFKC-normalised (full-width letters and digits, ligatures and superscripts
become their plain forms). Then:

- **refused** anywhere: NUL and the other control characters (C0, DEL, C1; a note may keep
  newlines and tabs), bidirectional controls (which make text display in another order than it
  is stored), unpaired surrogates and other unassigned or private-use code points;
- **digits**: every Unicode decimal digit (Arabic-Indic ``٣``, Persian ``۳``, Devanagari ``३``,
  Bengali, Thai, full-width... ) is mapped deliberately to its ASCII digit, then the value must
  match ``[0-9]+`` explicitly; ``str.isdigit`` and ``int`` alone are never the check, since
  ``"²".isdigit()`` is true and ``int("²")`` fails, and ``int`` accepts ``"١٢"``, ``"1_000"``
  and ``" 12 "``;
- **codes** (serial and seal numbers): upper case, without the spaces and hyphens people type;
  a seal must then match the pattern in the ``[fields]`` settings (ASCII letters and digits
  only, so a Cyrillic look-alike ``С`` for ``C`` is refused, not stored);
- **record ids** in hidden fields and addresses: ASCII digits within PostgreSQL's ``integer``.

The value a function returns is exactly what is stored, and what "check your answers" shows.
A refusal raises :class:`Refused` with a translatable message for the field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from workflow.i18n import N_, Message

MAX_RECORD_ID = 2**31 - 1  # PostgreSQL integer; SQLite would take more, PostgreSQL raises
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Separators people type inside codes: whitespace of every kind, hyphens and dashes.
_CODE_SEPARATORS = re.compile(r"[\s\u200b\u2060\ufeff\-\u2010-\u2015\u2212]+")
_SPACES = re.compile(r"[\s\u200b\u2060\ufeff]+")
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_RECORD_ID = re.compile(r"[0-9]{1,10}", re.ASCII)

BAD_CHARACTERS = N_("Remove the control or invisible formatting characters from this answer")
READING_DIGITS = N_("Enter the reading in whole cubic metres, digits only")


class Refused(ValueError):
    """An answer that cannot be stored; ``message`` says what to do (translated where shown)."""

    def __init__(self, message: Message | str, reason: str):
        self.message = message if isinstance(message, Message) else Message(message)
        self.reason = reason
        super().__init__(self.message.render())


@dataclass(frozen=True)
class FieldRules:
    """The ``[fields]`` settings: shapes of codes printed on the meter and its seal."""

    # after upper-casing and dropping spaces and hyphens; ASCII only (re.ASCII)
    seal_pattern: str = r"[A-Z]{0,4}[0-9]{2,12}"
    seal_example: str = "PL004512"

    def __post_init__(self) -> None:
        try:
            re.compile(self.seal_pattern)
        except re.error as err:
            raise ValueError(f"fields.seal_pattern is not a regular expression: {err}") from None


def _refused_character(ch: str, multiline: bool) -> bool:
    if multiline and ch in "\n\t":
        return False
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn")


def text(raw: str | None, *, multiline: bool = False) -> str:
    """NFKC, control and bidi characters refused, outer whitespace removed (CR LF become LF)."""
    value = unicodedata.normalize("NFKC", raw or "")
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if any(_refused_character(ch, multiline) for ch in value):
        raise Refused(BAD_CHARACTERS, "characters")
    return value.strip()


def ascii_digits(value: str) -> str:
    """Every Unicode decimal digit replaced by its ASCII digit; everything else unchanged."""
    return "".join(
        str(d) if (d := unicodedata.decimal(ch, None)) is not None else ch for ch in value
    )


def digits(raw: str | None, message: str = READING_DIGITS) -> str:
    """A whole number as typed (spaces between digit groups allowed), as ASCII digits; '' if empty.

    Leading zeros are kept: the length is the number of register digits the citizen typed.
    """
    value = _SPACES.sub("", ascii_digits(text(raw)))
    if value and not _ASCII_DIGITS.fullmatch(value):
        raise Refused(message, "digits")
    return value


def code(raw: str | None) -> str:
    """A code printed on equipment: NFKC, ASCII digits, upper case, no spaces or hyphens."""
    return _CODE_SEPARATORS.sub("", ascii_digits(text(raw))).upper()


def seal(raw: str | None, rules: FieldRules) -> str:
    """A seal number in its stored form, or '' if empty; refused unless it matches the pattern."""
    value = code(raw)
    if value and not re.fullmatch(rules.seal_pattern, value, flags=re.ASCII):
        raise Refused(
            Message(
                N_(
                    "Enter the seal number as it is printed on the seal, in Latin letters and "
                    "digits, like %(example)s"
                ),
                {"example": rules.seal_example},
            ),
            "pattern",
        )
    return value


def record_id(raw: str | int | None) -> int | None:
    """The id of a database row named in a hidden field or an address, or None if it cannot be one."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 < raw <= MAX_RECORD_ID else None
    value = (raw or "").strip() if isinstance(raw, str) else ""
    if not _RECORD_ID.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_RECORD_ID else None
