"""Identity adapters without Flask: certificates (signature card, Asan İmza), the Asan İmza
gateways, OpenID Connect; the views that use them are ``web/login_*.py``."""
