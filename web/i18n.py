"""Languages: Azerbaijani by default, English and Russian; messages translated at render time.

The locale comes from ``?lang=`` (and is remembered in the session), else the session, else
the default. The domain and the forms mark their text with ``N_`` and keep parameters apart
(:class:`workflow.i18n.Message`); :func:`translate` turns either into the reader's language.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from babel.messages.mofile import read_mo
from flask import Flask, request, session
from flask_babel import Babel, get_locale, get_translations, gettext

from engine.errors import DiagramError
from engine.settings import Settings
from workflow.i18n import N_, Message

LANG_ARG = "lang"
SESSION_KEY = "lang"
# Shown in the switcher in their own language, so anyone can find theirs.
LANGUAGE_NAMES = {"az": "Azərbaycanca", "en": "English", "ru": "Русский"}

STATUS_LABELS = {
    "draft": N_("Draft"),
    "registered": N_("Registered"),
    "in_review": N_("Under review"),
    "inspection": N_("On-site check"),
    "posted": N_("Reading posted"),
    "executed": N_("Executed"),
    "rejected": N_("Rejected"),
    "abandoned": N_("Abandoned"),
}

TASK_TITLES = {
    "identify_subscriber": N_("Create new application"),
    "enter_readings": N_("Meter readings"),
    "review_application": N_("Review application"),
    "handle_escalation": N_("Overdue review"),
    "field_inspection": N_("On-site inspection"),
}

# The diagram's automatic steps and timers as a timeline names them (never their ids).
STEP_TITLES = {
    "discard_draft": N_("Draft discarded"),
    "register_application": N_("Application registered"),
    "check_plausibility": N_("Readings checked against the records"),
    "route_to_unit": N_("Responsible unit chosen"),
    "assign_unit": N_("Assigned to the unit"),
    "escalate_review": N_("Unit head told of the overdue review"),
    "post_reading": N_("Reading posted"),
    "compute_invoice": N_("Invoice calculated"),
    "render_invoice": N_("Invoice PDF formed"),
    "notify_subscriber": N_("Invoice e-mailed"),
    "notify_rejection": N_("Rejection e-mailed"),
    "review_sla": N_("Review deadline"),
    "draft_expired": N_("Draft deadline"),
}

# Where a posted reading came from, as staff read it in a meter's history.
SOURCE_LABELS = {
    "citizen": N_("sent by the subscriber"),
    "inspector": N_("read by an inspector"),
    "utility": N_("read by the utility"),
    "estimate": N_("estimated"),
}

# Codes of decisions and visit outcomes as staff read them on a timeline (never shown raw).
DECISION_LABELS = {
    "accept": N_("accepted"),
    "inspect": N_("sent for an on-site check"),
    "reject": N_("rejected"),
    "done": N_("meter read on site"),
    "no_access": N_("no access"),
}

# Messages that WTForms itself formats in English before saygac sees them; listed here so the
# extractor puts them in the catalogue and :func:`translate` can match them back.
WTFORMS_MESSAGES = (
    N_("Field cannot be longer than %(max)d characters."),
    N_("Not a valid choice."),
    N_("This field is required."),
)


def _locales(settings: Settings) -> tuple[str, ...]:
    return tuple(settings.app.locales)


def make_locale_selector(settings: Settings):
    locales = _locales(settings)
    default = settings.app.default_locale

    def select_locale() -> str:
        asked = request.args.get(LANG_ARG)
        if asked in locales:
            return asked
        kept = session.get(SESSION_KEY)
        return kept if kept in locales else default

    return select_locale


def make_remember_locale(settings: Settings):
    locales = _locales(settings)

    def remember_locale() -> None:
        asked = request.args.get(LANG_ARG)
        if asked in locales and session.get(SESSION_KEY) != asked:
            session[SESSION_KEY] = asked

    return remember_locale


def language_links() -> list[dict]:
    """The switcher: this page in every language (the other query arguments kept)."""
    current = str(get_locale())
    args = [(k, v) for k, v in request.args.items(multi=True) if k != LANG_ARG]
    links = []
    for code, name in LANGUAGE_NAMES.items():
        links.append(
            {
                "code": code,
                "name": name,
                "current": code == current,
                "url": request.path + "?" + urlencode(args + [(LANG_ARG, code)]),
            }
        )
    return links


# -- translating what the domain and the forms hand over ----------------------------------------

_PARAM = re.compile(r"%\((\w+)\)[sd]")
_patterns_cache: dict[str, list[tuple[re.Pattern, str, frozenset[str]]]] = {}


def catalogue_msgids(translations) -> list[str]:
    """The singular msgids of the loaded catalogues, in file order, read with Babel's public
    ``.mo`` reader from the files the translations were loaded from (``Translations.files``,
    which Babel keeps through ``merge``); none for a language without a catalogue."""
    ids: dict[str, None] = {}
    for path in getattr(translations, "files", ()):
        with open(path, "rb") as fh:
            ids.update((m.id, None) for m in read_mo(fh) if isinstance(m.id, str) and m.id)
    return list(ids)


def _patterns(translations) -> list[tuple[re.Pattern, str, frozenset[str]]]:
    """Regexes for the catalogue's parameterised msgids (built once per language)."""
    key = str(get_locale())
    if key not in _patterns_cache:
        found = []
        for msgid in catalogue_msgids(translations):
            if not isinstance(msgid, str) or "%(" not in msgid:
                continue
            seen: set[str] = set()
            numbers: set[str] = set()
            parts, pos = [], 0
            for m in _PARAM.finditer(msgid):
                parts.append(re.escape(msgid[pos : m.start()]))
                name, is_number = m.group(1), m.group(0).endswith("d")
                if name in seen:
                    parts.append(f"(?P={name})")
                else:
                    parts.append(f"(?P<{name}>-?\\d+)" if is_number else f"(?P<{name}>.+?)")
                if is_number:
                    numbers.add(name)
                seen.add(name)
                pos = m.end()
            parts.append(re.escape(msgid[pos:]))
            found.append((re.compile("".join(parts), re.DOTALL), msgid, frozenset(numbers)))
        # The most specific first: "Meter %(number)s" must not swallow a longer message about a meter.
        found.sort(key=lambda item: -len(_PARAM.sub("", item[1])))
        _patterns_cache[key] = found
    return _patterns_cache[key]


def translate(message) -> str:
    """A :class:`Message`, its dict form, or a msgid, in the reader's language.

    Text that arrives already formatted in English (a ``Message`` rendered before it reached
    the web layer, a WTForms default message) is matched back to its msgid and parameters.
    """
    if message is None:
        return ""
    if isinstance(message, Message):
        return message.render(gettext)
    if isinstance(message, dict) and "text" in message:
        return Message.from_dict(message).render(gettext)
    text = str(message)
    translations = get_translations()
    translated = translations.gettext(text)
    if translated != text or "%(" in text:
        return translated
    for pattern, msgid, numbers in _patterns(translations):
        m = pattern.fullmatch(text)
        if m:
            params = {k: int(v) if k in numbers else v for k, v in m.groupdict().items()}
            try:
                return translations.gettext(msgid) % params
            except (TypeError, ValueError, KeyError):  # a translation whose placeholders differ
                continue
    return text


def diagram_problem(err: DiagramError) -> str:
    """A diagram problem's message in the reader's language (its message id and parameters)."""
    return translate(Message(err.msgid, err.params))


def describe_diagram_error(err: DiagramError) -> str:
    """The problem and where it is (file, line, element), in the reader's language."""
    where = [
        gettext("file %(name)s", name=err.file) if err.file else "",
        gettext("line %(n)s", n=err.line) if err.line else "",
        gettext("element %(id)s", id=err.element_id) if err.element_id else "",
    ]
    where_text = ", ".join(w for w in where if w)
    text = diagram_problem(err)
    return f"{text} ({where_text})" if where_text else text


def init_app(app: Flask, settings: Settings) -> Babel:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", settings.app.default_locale)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", settings.app.timezone)
    babel = Babel(app, locale_selector=make_locale_selector(settings))
    app.before_request(make_remember_locale(settings))
    app.jinja_env.globals.update(
        t=translate,
        language_links=language_links,
        get_locale=get_locale,
        STATUS_LABELS=STATUS_LABELS,
        TASK_TITLES=TASK_TITLES,
        DECISION_LABELS=DECISION_LABELS,
        SOURCE_LABELS=SOURCE_LABELS,
    )
    return babel
