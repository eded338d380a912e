"""The e-mails the process sends, written to the outbox in the subscriber's language (Azerbaijani).

Only letters to the holder carry the holder's name; a person who applied for a meter that is
not theirs gets :func:`status_changed`, with the application's number and outcome and nothing
about the holder (``workflow.privacy``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def invoice_ready(
    *, number: str, full_name: str, invoice_number: str, gross: str, due_on: str, status_url: str
) -> Letter:
    return Letter(
        subject=f"Müraciət {number}: hesab-faktura hazırdır",
        body=(
            f"Hörmətli {full_name},\n\n"
            f"{number} nömrəli müraciətiniz icra olundu: sayğac göstəriciləri qeydə alındı və "
            f"{invoice_number} nömrəli hesab-faktura formalaşdırıldı.\n"
            f"Ödəniləcək məbləğ: {gross} (ƏDV daxil). Son ödəniş tarixi: {due_on}.\n\n"
            f'Hesab-faktura bu məktuba əlavə olunub; onu həmçinin "Müraciətin statusunu yoxla" '
            f"bölməsindən yükləyə bilərsiniz: {status_url}\n\n"
            "Xidmətimizdən istifadə etdiyiniz üçün təşəkkür edirik.\n"
        ),
    )


def status_changed(*, number: str, executed: bool, status_url: str) -> Letter:
    """To an applicant who is not the holder: the number and the outcome, no personal data."""
    outcome = (
        "icra olundu: sayğac göstəriciləri qeydə alındı. Hesab-faktura abonentin qeydiyyatdakı "
        "e-poçt ünvanına göndərildi"
        if executed
        else "icra olunmadı"
    )
    return Letter(
        subject=f"Müraciət {number}: {'icra olundu' if executed else 'imtina edildi'}",
        body=(
            "Hörmətli müraciətçi,\n\n"
            f"{number} nömrəli müraciətiniz {outcome}.\n\n"
            f"Müraciətin statusu: {status_url}\n"
        ),
    )


def application_rejected(
    *, number: str, full_name: str | None, reason: str, status_url: str
) -> Letter:
    """The rejection with its reason; ``full_name`` only when the letter goes to the holder."""
    return Letter(
        subject=f"Müraciət {number}: imtina edildi",
        body=(
            f"Hörmətli {full_name or 'müraciətçi'},\n\n"
            f"{number} nömrəli müraciətiniz aşağıdakı səbəbə görə icra olunmadı:\n{reason}\n\n"
            "Məlumatları düzəldib yeni müraciət yarada bilərsiniz. Müraciətin statusu: "
            f"{status_url}\n"
        ),
    )


def review_overdue(*, number: str, unit_name: str, due: str, queue_url: str) -> Letter:
    return Letter(
        subject=f"Gecikmə: müraciət {number} vaxtında baxılmayıb",
        body=(
            f"{unit_name}\n\n"
            f"{number} nömrəli müraciətə baxılma müddəti {due} tarixində bitib. "
            f"Tapşırıq rəhbərin növbəsinə əlavə olundu: {queue_url}\n"
        ),
    )
