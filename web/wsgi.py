"""The WSGI entry point for gunicorn: ``gunicorn web.wsgi:app``. It serves production only: in
any other mode it stops with a message naming the setting (``engine.safety.wsgi_problems``), and
the factory refuses an unsafe production (``engine.safety.check``)."""

from engine import logs, safety
from engine.settings import load_settings
from web import create_app

settings = load_settings()
if safety.wsgi_problems(settings):
    raise SystemExit("\n".join(safety.wsgi_problems(settings)))
logs.configure(json_lines=True)
app = create_app(settings)
