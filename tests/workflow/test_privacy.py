"""The holder's personal data on every channel: receipt PDF, invoice PDF and every e-mail.

A citizen applying for a meter that is not theirs (a tenant, a relative) sees the holder masked
everywhere; the holder sees themself in full. Texts are extracted from the real PDFs (pypdf) and
the real .eml files the mail transport wrote.
"""

from __future__ import annotations

import io
from email import message_from_bytes, policy

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow import invoicing, privacy
from workflow.models import Invoice, Subscriber

HOLDER_FIN = "7HOLD01"


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def mails(system) -> list[tuple[str, str, list[str]]]:
    """(to, body, text of each attached PDF) of every .eml the transport wrote."""
    found = []
    for path in sorted(system.settings.path(system.settings.mail.outbox_dir).glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(preferencelist=("plain",)).get_content()
        pdfs = [pdf_text(part.get_payload(decode=True)) for part in msg.iter_attachments()]
        found.append((msg["To"], f"{msg['Subject']}\n{body}", pdfs))
    return found


@pytest.fixture
def people(system):
    return make_people(system)


def run(system, people, holder: str):
    """The citizen applies for the meter of a subscriber whose FIN is ``holder``'s; the operator accepts."""
    life = Lifecycle(system)
    fin = "5ABC123" if holder == "citizen" else HOLDER_FIN
    code, serials, seals = new_subscriber(system, fin=fin)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)
    app = life.application(iid)
    with system.sessions() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.code == code))
        invoice = s.scalar(select(Invoice).where(Invoice.application_id == app.id))
        view = privacy.view_for(people["citizen"], app)
        documents = {
            "receipt": pdf_text(invoicing.receipt_pdf(app, view, system.settings.files.font_dir)),
            "invoice": pdf_text(invoicing.invoice_pdf(s, invoice, view, system.services)),
        }
        return (
            sub.full_name,
            sub.address,
            (sub.first_name, sub.last_name, sub.patronymic),
            documents,
        )


def test_a_non_holder_applicant_never_gets_the_holders_name_or_address(system, people):
    full_name, address, parts, documents = run(system, people, holder="someone else")
    for name, text in documents.items():
        assert "Ş. G." in text and "Bakı, Ş. Mehdiyev küçəsi" in text, (
            name
        )  # enough to recognise the home
        for secret in (*parts, address):
            assert secret not in text, (name, secret)
    letters = {to: (body, pdfs) for to, body, pdfs in mails(system)}
    assert set(letters) == {"citizen@example.az", "abonent@example.az"}
    body, pdfs = letters["citizen@example.az"]  # typed in the form by the non-holder: status only
    assert "icra olundu" in body and pdfs == []
    for secret in (*parts, address):
        assert secret not in body, secret
    body, pdfs = letters[
        "abonent@example.az"
    ]  # the holder's address on record: the invoice, in full
    assert full_name in body and len(pdfs) == 1 and full_name in pdfs[0] and address in pdfs[0]


def test_the_holder_gets_their_name_and_address_everywhere(system, people):
    full_name, address, _parts, documents = run(system, people, holder="citizen")
    for name, text in documents.items():
        assert full_name in text and address in text, name
    letters = mails(system)
    assert sorted(to for to, _body, _pdfs in letters) == [
        "abonent@example.az",
        "citizen@example.az",
    ]
    for _to, body, pdfs in letters:
        assert full_name in body and len(pdfs) == 1 and full_name in pdfs[0] and address in pdfs[0]


def test_a_rejection_to_a_non_holder_names_nobody(system, people):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system, fin=HOLDER_FIN)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(
        iid,
        "review_application",
        people["operator"],
        {"decision": "reject", "reject_reason": "The photo is unreadable or too dark"},
        claim=True,
    )
    letters = mails(system)
    assert [to for to, _b, _p in letters] == [
        "citizen@example.az"
    ]  # not to the holder, who did not apply
    body = letters[0][1]
    assert "Hörmətli müraciətçi" in body and "Gülməmmədov" not in body and "Şəmsəddin" not in body


def test_masked_view_keeps_initials_and_street_only(system, people):
    new_subscriber(system, fin=HOLDER_FIN)
    with system.sessions() as s:
        sub = s.scalar(select(Subscriber))
        view = privacy.masked(sub)
        assert (view.name, view.address, view.full, view.phone, view.email) == (
            "Ş. G.",
            "Bakı, Ş. Mehdiyev küçəsi",
            False,
            None,
            None,
        )


def test_logs_carry_ids_never_personal_data(system, people, caplog):
    caplog.set_level("DEBUG")
    full_name, address, parts, _documents = run(system, people, holder="someone else")
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for secret in (
        *parts,
        address,
        HOLDER_FIN,
        "5ABC123",
        "abonent@example.az",
        "citizen@example.az",
        "+994501234567",
    ):
        assert secret not in logged, secret
