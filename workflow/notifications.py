"""The e-mails the process sends, written to the outbox in the subscriber's language (Azerbaijani)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def invoice_ready(*, number: str, full_name: str, invoice_number: str, gross: str, due_on: str,
                  status_url: str) -> Letter:
    return Letter(
        subject=f"Müraciət {number}: hesab-faktura hazırdır",
        body=(
            f"Hörmətli {full_name},\n\n"
            f"{number} nömrəli müraciətiniz icra olundu: sayğac göstəriciləri qeydə alındı və "
            f"{invoice_number} nömrəli hesab-faktura formalaşdırıldı.\n"
            f"Ödəniləcək məbləğ: {gross} (ƏDV daxil). Son ödəniş tarixi: {due_on}.\n\n"
            f"Hesab-faktura bu məktuba əlavə olunub; onu həmçinin \"Müraciətin statusunu yoxla\" "
            f"bölməsindən yükləyə bilərsiniz: {status_url}\n\n"
            "Xidmətimizdən istifadə etdiyiniz üçün təşəkkür edirik.\n"
        ),
    )


def application_rejected(*, number: str, full_name: str, reason: str, status_url: str) -> Letter:
    return Letter(
        subject=f"Müraciət {number}: imtina edildi",
        body=(
            f"Hörmətli {full_name},\n\n"
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
