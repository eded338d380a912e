"""Every page in az, en and ru: no raw code and, on az and ru pages, no English UI word.

The walk takes every GET route of ``app.url_map``, as every role the policy lets see it, with the
sample objects of the route-policy walk (one application of a citizen in Yasamal waiting at the
review), through the Flask test client; the visible text of each HTML page (the rendered
document without scripts, styles and the contents of ``code``/``pre``/form fields, where codes
are typed or shown on purpose), with the aria-label, title, placeholder and alt texts, is read
with lxml.
"""

from __future__ import annotations

import re

import lxml.html

from engine import policy
from tests import factories as f
from tests.web.staffing import actor_of
from tests.web.test_route_policy import ROLES, _sample, _url
from web.route_policy import PUBLIC, SIGNED_IN, declared

LOCALES = ("az", "en", "ru")
# snake_case ids (task, form, operation, message ids) and "(inspect)"-style codes in brackets
RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\([a-z_]+\)")
# English words a translated page must not show; product names and typed codes are not among them.
ENGLISH = (
    "Submit",
    "Queue",
    "Status",
    "Claim",
    "Release",
    "Review",
    "Invoice",
    "Error",
    "Save",
    "Cancel",
    "Search",
    "Filter",
    "Reading",
    "Meter",
    "Application",
    "Approve",
    "Reject",
    "Inspector",
    "Operator",
    "Deploy",
    "Version",
    "Draft",
    "Sign in",
    "Sign out",
    "Previous",
    "Next",
    "Details",
    "Required",
    "Delete",
    "Edit",
    "Close",
    "Download",
    "Photo",
    "Due",
    "Overdue",
    "Assigned",
    "Unit",
)
ENGLISH_WORD = re.compile(r"(?<![\w-])(" + "|".join(ENGLISH) + r")(?![\w-])", re.IGNORECASE)
# The diagram files the studio names (``meter_reading.bpmn``) are names analysts work with.
FILE_NAME = re.compile(r"\b[\w.-]+\.(?:bpmn|dmn|json)\b")
NOT_PROSE = ("script", "style", "code", "pre", "textarea", "kbd", "samp", "template", "noscript")


def visible_text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    for node in doc.xpath("|".join(f"//{tag}" for tag in NOT_PROSE)):
        node.drop_tree()
    body = doc.find("body")
    root = body if body is not None else doc
    said = root.xpath(
        "//@aria-label | //@title | //@placeholder | //@alt"
    )  # read out or shown on hover
    text = " ".join(" ".join([*root.itertext(), *said]).split())
    return FILE_NAME.sub(" ", text)


def _with_lang(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


def test_every_page_in_every_language_shows_no_code_and_no_english(
    app, auth, people, subscriber, system, capsys
):
    with system.sessions() as s:
        f.account(s, "analyst", username="analitik", name="Nigar Quliyeva")
        f.account(s, "admin", username="admin", name="Admin")
        s.commit()
    logins = {**people, "analyst": "analitik", "admin": "admin"}
    sample = _sample(system, people, subscriber)
    browsers = {
        role: (auth.browser() if role == "anonymous" else auth.login(logins[role]))
        for role in ROLES
    }
    actors = {
        role: (
            policy.Actor(id=None, role="anonymous", label="-")
            if role == "anonymous"
            else actor_of(system, logins[role])
        )
        for role in ROLES
    }
    pages, found = 0, []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api"):
            continue
        view = app.view_functions[rule.endpoint]
        action, declared_resource = (
            declared(app, rule.endpoint),
            getattr(view, "policy_resource", None),
        )
        url = _url(rule, sample["values"])
        args = {arg: sample["values"][arg] for arg in rule.arguments if arg in sample["values"]}
        for role in ROLES:
            if action == SIGNED_IN and role == "anonymous":
                continue
            if action not in (PUBLIC, SIGNED_IN):
                kind = policy.kind_of(action)
                resource = (
                    declared_resource(actors[role], **args)
                    if declared_resource is not None
                    else sample["resources"].get(kind)
                    or policy.Resource(kind, unit_id=actors[role].unit_id, lane="operator")
                )
                if not policy.allows(actors[role], action, resource):
                    continue
            for lang in LOCALES:
                response = browsers[role].client.get(_with_lang(url, lang))
                is_page = response.status_code == 200 and response.mimetype == "text/html"
                html = response.get_data(as_text=True) if is_page else ""
                response.close()
                if not is_page:
                    continue
                pages += 1
                text = visible_text(html)
                if role != "anonymous":  # one's user name ("operator") is typed, not translated
                    text = re.sub(rf"\b{re.escape(logins[role])}\b", " ", text)
                for code in RAW_CODE.findall(text):
                    found.append((lang, role, url, "code", code))
                if lang != "en":
                    for word in ENGLISH_WORD.findall(text):
                        found.append((lang, role, url, "English", word))
    with capsys.disabled():
        print(f"\npage words: {pages} pages (route × role × language) read, {len(found)} findings")
        for item in sorted(set(found)):
            print("  ", item)
    assert pages > 0
    assert sorted(set(found)) == []
