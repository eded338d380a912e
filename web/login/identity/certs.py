"""X.509 certificates of signature cards and Asan İmza: chain, dates, key usage, CRL, FIN.

Plain ``cryptography`` (no Flask): the chain is walked from the leaf to a certificate of the
configured CA bundle, each link checked with ``verify_directly_issued_by``; every certificate
must be inside its validity dates, issuers must be CAs allowed to sign certificates, the leaf
must allow digital signatures (and client authentication when it names extended key usages).
Revocation is read from a CRL file whose signature and ``next_update`` are checked; a stale or
foreign CRL refuses every certificate (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeGuard, get_args

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPublicKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from web.login.identity import Refused

FIN_IN_TEXT = re.compile(r"(?:^|[^0-9A-Z])([0-9A-Z]{7})(?:$|[^0-9A-Z])")


class CertificateRefused(Refused):
    """The certificate cannot be trusted."""


@dataclass(frozen=True)
class Person:
    fin: str
    name: str
    serial: int
    issuer: str


def load_pem_bundle(path: str | Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def load_crl(path: str | Path) -> x509.CertificateRevocationList:
    data = Path(path).read_bytes()
    return (
        x509.load_pem_x509_crl(data)
        if data.lstrip().startswith(b"-----")
        else x509.load_der_x509_crl(data)
    )


def parse_certificate(data: str | bytes) -> x509.Certificate:
    """A certificate in PEM (also URL-escaped, as nginx's ``$ssl_client_escaped_cert`` sends it) or DER."""
    from urllib.parse import unquote

    if isinstance(data, str):
        data = unquote(data).encode("ascii", "replace")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data.strip())
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateRefused("unreadable") from None


def _within_dates(cert: x509.Certificate, at: datetime, reason_prefix: str = "") -> None:
    if at < cert.not_valid_before_utc:
        raise CertificateRefused(reason_prefix + "not_yet_valid")
    if at > cert.not_valid_after_utc:
        raise CertificateRefused(reason_prefix + "expired")


def _ext(cert: x509.Certificate, cls):
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _check_leaf_usage(cert: x509.Certificate) -> None:
    usage = _ext(cert, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise CertificateRefused("key_usage")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if (
        eku is not None
        and ExtendedKeyUsageOID.CLIENT_AUTH not in eku
        and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    ):
        raise CertificateRefused("key_usage")


def _check_issuer(cert: x509.Certificate) -> None:
    constraints = _ext(cert, x509.BasicConstraints)
    usage = _ext(cert, x509.KeyUsage)
    if constraints is None or not constraints.ca or (usage is not None and not usage.key_cert_sign):
        raise CertificateRefused("wrong_ca")


def build_chain(
    leaf: x509.Certificate,
    anchors: list[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
) -> list[x509.Certificate]:
    """leaf → … → anchor, each link's signature verified; raises ``wrong_ca`` when none leads to an anchor."""
    chain, current = [leaf], leaf
    pool = list(intermediates)
    for _ in range(8):
        for anchor in anchors:
            if anchor.subject == current.issuer and _signed_by(current, anchor):
                return chain + ([anchor] if anchor != current else [])
        parent = next(
            (c for c in pool if c.subject == current.issuer and _signed_by(current, c)), None
        )
        if parent is None:
            break
        pool.remove(parent)
        chain.append(parent)
        current = parent
    raise CertificateRefused("wrong_ca")


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _can_sign(key: CertificatePublicKeyTypes) -> TypeGuard[CertificateIssuerPublicKeyTypes]:
    """Whether ``key`` is of a kind that signs certificates and revocation lists."""
    return isinstance(key, get_args(CertificateIssuerPublicKeyTypes))


def check_revocation(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    crl: x509.CertificateRevocationList,
    at: datetime,
) -> None:
    key = issuer.public_key()  # a key that cannot sign (X25519, …) vouches for no list
    if crl.issuer != issuer.subject or not _can_sign(key) or not crl.is_signature_valid(key):
        raise CertificateRefused("crl_unusable")
    if crl.next_update_utc is not None and at > crl.next_update_utc:
        raise CertificateRefused("crl_unusable")
    if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
        raise CertificateRefused("revoked")


def fin_from_subject(cert: x509.Certificate, attribute: str = "serialNumber") -> str | None:
    """The FIN from the subject attribute (``serialNumber`` by default; "FIN-5ABC123" or "5ABC123")."""
    oid = NameOID.SERIAL_NUMBER if attribute == "serialNumber" else x509.ObjectIdentifier(attribute)
    for attr in cert.subject.get_attributes_for_oid(oid):
        value = str(attr.value).strip().upper()
        if re.fullmatch(r"[0-9A-Z]{7}", value):
            return value
        match = re.fullmatch(r"(?:FIN|PNOAZ)[-: ]?([0-9A-Z]{7})", value)
        if match:
            return match.group(1)
    return None


def person_from_certificate(
    cert: x509.Certificate,
    anchors: list[x509.Certificate],
    at: datetime,
    *,
    crl: x509.CertificateRevocationList | None = None,
    intermediates: Sequence[x509.Certificate] = (),
    fin_attribute: str = "serialNumber",
) -> Person:
    """Verify ``cert`` and return the person it names; raises :class:`CertificateRefused` otherwise."""
    _within_dates(cert, at)
    chain = build_chain(cert, anchors, intermediates)
    for issuer in chain[1:]:
        _check_issuer(issuer)
        _within_dates(issuer, at, "ca_")
    _check_leaf_usage(cert)
    if crl is not None:
        check_revocation(cert, chain[1], crl, at)
    fin = fin_from_subject(cert, fin_attribute)
    if fin is None:
        raise CertificateRefused("no_fin")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return Person(
        fin=fin,
        name=str(names[0].value) if names else fin,
        serial=cert.serial_number,
        issuer=cert.issuer.rfc4514_string(),
    )
