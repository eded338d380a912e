"""A corpus of hostile values typed into every field of the citizen's readings form, through the
real pages (CSRF on, the photo uploaded once, the form re-sent as the browser would).

Each value, in each field, must end one of two ways: refused with an error in the error summary
that points at that field, with the other answers kept; or accepted, and then "check your
answers" carries exactly the normalised value that the final press stores. Never a server error.
One accepted submission is then sent for real and the stored values compared with the preview.
Every test here runs on SQLite and on PostgreSQL (which refuses NUL in text and differs on
integer overflow).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_settings, make_system
from tests.integration.conftest import pg_system, pg_url  # noqa: F401  (fixtures)
from tests.web.conftest import image_bytes
from tests.web.helpers import error_summary, identify, start
from workflow import normalise
from workflow.identifiers import normalize_az_phone
from workflow.models import Application


@pytest.fixture(params=["SQLite", "PostgreSQL"])
def system(request, tmp_path, clock):
    """The shared ``system`` fixture, once per database."""
    if request.param == "PostgreSQL":
        yield request.getfixturevalue("pg_system")
        return
    system = make_system(make_settings(tmp_path), clock)
    yield system
    system.db.dispose()


CORPUS = [
    # decimal digits of other scripts, and digit look-alikes NFKC turns into digits
    "١٢٠٦",
    "۱۲۰۶",
    "१२०६",
    "১২০৬",
    "๑๒๐๖",
    "１２０６",
    "𝟏𝟐𝟎𝟔",
    "¹²⁰⁶",
    "₁₂₀₆",
    "①②⓪⑥",
    "Ⅻ",
    "½",
    "١٢٠٦.٠",
    # NUL, C0 and C1 controls, bidi controls
    "12\x0006",
    "\x00",
    "1206\x07",
    "\x1b[31m1206",
    "12\x7f06",
    "1206\x85",
    "\u202e6021",
    "\u2066PL0145\u2069",
    "1206\u200f",
    "\u061c1206",
    "line\rbreak",
    "tab\there",
    # look-alike letters (Cyrillic Р, О, Ѕ; Greek Ν)
    "РL01450",
    "SN0145ОО",
    "ЅN014500",
    "SΝ014500",
    # SQL, markup, format strings
    "'; DROP TABLE meter; --",
    "1206 OR 1=1",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "%s%s%n",
    "../../etc/passwd",
    # numbers that are not readings
    "9" * 80,
    "99999999999999999999",
    "1e308",
    "-1206",
    "+1206",
    "0x4B6",
    "1_206",
    "1206.0",
    "NaN",
    "Infinity",
    # emoji, long and expanding text, odd spaces
    "🙂",
    "1206🙂",
    "👨\u200d👩\u200d👧",
    "A" * 5000,
    "e\u0301" * 600,
    "ﷺ" * 200,
    " ",
    "\u3000",
    "\t1206\n",
]
# the fields a citizen types into, with the error-summary anchor and the preview's hidden input
FIELDS = {
    "value": "meters-0-value",
    "seal": "meters-0-seal",
    "serial": "meters-0-serial",
    "read_on": "meters-0-read_on",
    "phone": "phone",
    "email": "email",
    "notes": "notes",
}


def _valid(subscriber, today) -> dict:
    """Answers already in their stored form, so a kept answer reads back unchanged."""
    return {
        "meters-0-serial": subscriber["serials"][0],
        "meters-0-seal": subscriber["seals"][0],
        "meters-0-value": "1206",
        "meters-0-read_on": today.isoformat(),
        "phone": "+994501234567",
        "email": "aysel@example.az",
        "notes": "Sayğac mətbəxdədir",
    }


def _expected(field: str, raw: str) -> str:
    """What the normaliser makes of an accepted value: the preview must carry exactly this."""
    if field == "value":
        return str(int(normalise.digits(raw)))
    if field == "serial":
        return normalise.code(raw)
    if field == "seal":
        return normalise.seal(raw, normalise.FieldRules())
    if field == "read_on":
        return normalise.ascii_digits(normalise.text(raw))
    if field == "phone":
        return normalize_az_phone(raw)
    if (
        field == "notes"
    ):  # the field's filter strips first: a trailing NEL (\x85) is whitespace to str.strip
        return normalise.text(raw.strip(), multiline=True)
    return normalise.text(raw)


def _inputs(doc) -> dict:
    """Every input's value; a textarea's text without the newline HTML drops after its start tag."""
    values = {el.get("name"): el.get("value") or "" for el in doc.xpath("//input[@name]")}
    for el in doc.xpath("//textarea[@name]"):
        text = el.text or ""
        values[el.get("name")] = text.removeprefix("\n")
    return values


def test_hostile_values_in_every_field_are_refused_or_stored_normalised(
    auth, people, subscriber, system
):
    today = system.services.today()
    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])
    valid = _valid(subscriber, today)
    citizen.submit(
        {**valid, "submit": "1"}, files={"meters-0-photo": (image_bytes("JPEG"), "m.jpg")}
    )
    assert citizen.doc.xpath("//button[@name='final']"), error_summary(citizen.doc)
    tried = refused = accepted = server_errors = 0
    unexplained = []
    for field, name in FIELDS.items():
        for raw in CORPUS:
            tried += 1
            citizen.submit(
                {**valid, name: raw, "submit": "1"}
            )  # from the preview or the re-shown form
            status = citizen.response.status_code
            if status >= 500:
                server_errors += 1
                unexplained.append((field, raw, status))
                continue
            errors = dict(error_summary(citizen.doc))
            inputs = _inputs(citizen.doc)
            kept = all(
                inputs.get(other) == value for other, value in valid.items() if other != name
            )
            if f"#{name}" in errors and len(errors) == 1 and kept:
                refused += 1
            elif (
                not errors
                and citizen.doc.xpath("//button[@name='final']")
                and inputs.get(name) == _expected(field, raw)
            ):
                accepted += 1  # _expected raises if the normaliser refuses what the page accepted
            else:
                unexplained.append(
                    (
                        field,
                        raw,
                        status,
                        errors,
                        inputs.get(name),
                        {
                            k: inputs.get(k)
                            for k, v in valid.items()
                            if k != name and inputs.get(k) != v
                        },
                    )
                )
    print(
        f"\nfield corpus on {system.db.dialect.name}: {len(CORPUS)} values x {len(FIELDS)} fields = {tried} tried; "
        f"refused with a field error {refused}; accepted and shown normalised {accepted}; "
        f"server errors {server_errors}; hangs 0"
    )
    assert unexplained == [] and server_errors == 0 and refused + accepted == tried


def test_the_normalised_preview_is_what_is_stored(auth, people, subscriber, system):
    today = system.services.today()
    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])
    typed = {
        "meters-0-serial": " " + subscriber["serials"][0].lower().replace("sn", "sn-"),
        "meters-0-seal": subscriber["seals"][0]
        .translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        .lower(),
        "meters-0-value": "１ ２０６",
        "meters-0-read_on": (today - timedelta(days=1))
        .isoformat()
        .translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
        "phone": "٠٥٠ ١٢٣ ٤٥ ٦٧",
        "email": " aysel@example.az ",
        "notes": "  Ｍətbəxdə\r\nsağda  ",
    }
    citizen.submit(
        {**typed, "submit": "1"}, files={"meters-0-photo": (image_bytes("JPEG"), "m.jpg")}
    )
    preview = _inputs(citizen.doc)
    assert citizen.doc.xpath("//button[@name='final']"), error_summary(citizen.doc)
    shown = {name: preview[name] for name in typed}
    assert shown == {
        "meters-0-serial": subscriber["serials"][0],
        "meters-0-seal": subscriber["seals"][0],
        "meters-0-value": "1206",
        "meters-0-read_on": (today - timedelta(days=1)).isoformat(),
        "phone": "+994501234567",
        "email": "aysel@example.az",
        "notes": "Mətbəxdə\nsağda",
    }
    citizen.submit({"final": "1"})
    assert citizen.response.status_code == 302, error_summary(citizen.doc)
    with system.sessions() as s:
        app = s.scalar(select(Application).order_by(Application.id.desc()))
        line = app.lines[0]
        assert (line.declared_serial, line.declared_seal, line.value, line.read_on.isoformat()) == (
            shown["meters-0-serial"],
            shown["meters-0-seal"],
            1206,
            shown["meters-0-read_on"],
        )
        assert (app.phone, app.email, app.notes) == (shown["phone"], shown["email"], shown["notes"])


def test_hostile_subscriber_codes_are_refused_with_a_field_error(auth, people, subscriber, system):
    citizen = auth.login(people["citizen"])
    start(citizen)
    page = citizen.response.request.path
    tried = refused = server_errors = 0
    unexplained = []
    for raw in CORPUS:
        tried += 1
        citizen.get(page)
        citizen.submit({"subscriber_code": raw})
        if citizen.response.status_code >= 500:
            server_errors += 1
            continue
        if [target for target, _text in error_summary(citizen.doc)] == ["#subscriber_code"]:
            refused += 1
        else:
            unexplained.append((raw, citizen.response.status_code))
    print(
        f"\nsubscriber code corpus on {system.db.dialect.name}: {tried} tried; refused with a field error "
        f"{refused}; server errors {server_errors}; hangs 0"
    )
    assert unexplained == [] and server_errors == 0 and refused == tried
    # the same code written in Arabic-Indic digits is the subscriber's code
    citizen.get(page)
    citizen.submit(
        {"subscriber_code": subscriber["code"].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))}
    )
    assert citizen.response.status_code == 302, error_summary(citizen.doc)


def test_a_user_name_with_control_characters_is_a_field_error_not_a_lookup(auth, people):
    browser = auth.browser()
    for raw in ("vetendas\x00", "\x00", "vet\u202eendas", "vetendas\x1b"):
        browser.get("/login?lang=en")
        browser.submit({"username": raw, "password": "secret-pass-1"}, action="/login")
        assert browser.response.status_code == 200
        assert error_summary(browser.doc) == [
            ("#username", "Remove the control or invisible formatting characters from this answer")
        ]
