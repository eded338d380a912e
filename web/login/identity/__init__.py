"""Identity adapters without Flask: certificates (signature card, Asan İmza), the Asan İmza
gateways, OpenID Connect; the views that use them are the modules of :mod:`web.login`."""


class Refused(Exception):
    """An identity proof cannot be trusted; ``reason`` is a short code for the audit log and the page."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
