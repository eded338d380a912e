"""Signing in, one module per method: ``password`` (the login page, user name and password,
signing out), ``totp`` (staff's one-time code), ``card`` (electronic signature card through the
TLS proxy), ``oidc`` (e-gov identity and the organisation's provider), ``asan`` (Asan İmza), and
``account`` (a person's own account page and the administrator's account list). ``identity``
holds the Flask-free adapters they use (certificates, the Asan İmza gateways, OpenID Connect),
``common`` what the methods share, ``registry`` the list the app factory hands to
:func:`web.auth.init_app`.
"""
