"""The signature card in the embedded mode: a demo CA and one card (certificate) per demo citizen.

In production the TLS proxy asks the browser for the card's certificate and passes it to the app
in a header (``web.login.card``). The embedded mode has no proxy and no card reader, so this
simulator plays both: the sign-in page lists the demo citizens' cards, and the chosen card's
certificate goes through the same verification as a proxied one (chain to the trusted CAs,
dates, key usage, revocation, FIN from the subject), with the demo CA as the only trusted one.
Production refuses ``[card] simulator = true`` (``engine.safety``).
"""

from __future__ import annotations

from cryptography import x509

from web.login.identity.ca import MiniCA, pem


class CardSimulator:
    def __init__(self, people: dict[str, str]):
        """``people``: FIN → name of the citizens who get a card."""
        self.ca = MiniCA("saygac demo signature-card CA")
        self.people = dict(people)
        self.cards = {fin: pem(self.ca.issue(name, fin)) for fin, name in self.people.items()}

    @property
    def anchors(self) -> list[x509.Certificate]:
        return [self.ca.cert]

    def card(self, fin: str) -> str | None:
        """The certificate (PEM) on this person's card, as the proxy would pass it."""
        return self.cards.get(fin)
