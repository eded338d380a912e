"""The studio's check and deploy problems read in the page's language, codes kept as typed."""

from __future__ import annotations

import json
import re

import pytest

from engine.specs import read_directory
from workflow import factories as f
from workflow.process import DIAGRAM_DIR

SHIPPED = read_directory(DIAGRAM_DIR)
BPMN = "meter_reading.bpmn"
BROKEN = {
    **SHIPPED,
    BPMN: SHIPPED[BPMN].replace('value="review_application"', 'value="no_such_form"'),
}
# The English words of the problem and of where it is; none may be left on an az or ru page
# ("element" is Azerbaijani too, so it is not among them).
ENGLISH = {"the", "form", "does", "not", "exist", "file", "line"}


@pytest.fixture
def analyst(system):
    with system.sessions() as s:
        f.account(s, "analyst", username="analitik", name="Nərmin Cəfərova")
        s.commit()
    return "analitik"


def _studio(auth, analyst, lang):
    browser = auth.login(analyst)
    browser.get(f"/studio/draft?lang={lang}")
    csrf = browser.doc.xpath("//*[@data-studio]/@data-csrf")[0]

    def call(method, url, body):
        response = browser.client.open(url, method=method, json=body, headers={"X-CSRFToken": csrf})
        return response.status_code, response.get_json()

    scenarios = call("GET", "/studio/api/draft", None)[1]["scenarios"]
    assert call("PUT", "/studio/api/draft", {"files": BROKEN, "scenarios": scenarios})[0] == 200
    return call


def _words(text: str) -> set[str]:
    """The Latin-letter words of ``text``, leaving out codes such as ``review_application``."""
    return {w.lower() for w in re.findall(r"[A-Za-z]+", re.sub(r"\w*_\w*", " ", text))}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("az", "'no_such_form' forması mövcud deyil"),
        ("ru", "формы «no_such_form» не существует"),
        ("en", "the form 'no_such_form' does not exist"),
    ],
)
def test_a_check_problem_is_in_the_page_language(auth, analyst, lang, expected):
    call = _studio(auth, analyst, lang)
    status, result = call("POST", "/studio/api/check", {})
    assert status == 200 and result["ok"] is False
    assert [(p["element_id"], p["message"]) for p in result["problems"]] == [
        ("review_application", expected)
    ]


@pytest.mark.parametrize(
    ("lang", "where"), [("az", "element review_application"), ("ru", "элемент review_application")]
)
def test_a_refused_deploy_says_what_and_where_without_english(auth, analyst, lang, where):
    call = _studio(auth, analyst, lang)
    status, body = call("POST", "/studio/api/deploy", {"reason": "sınaq"})
    assert status == 400
    assert body["error"].endswith(f"({where})")
    assert not _words(body["error"]) & ENGLISH
    assert not _words(body["problems"][0]["message"]) & ENGLISH


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("az", "Element heç nəyə bağlı deyil"), ("ru", "Элемент ни с чем не соединён")],
)
def test_the_modeler_gets_the_lint_messages_in_the_page_language(auth, analyst, lang, expected):
    browser = auth.login(analyst)
    browser.get(f"/studio/draft?lang={lang}")
    texts = json.loads(browser.doc.xpath("//*[@data-studio]/@data-lint-texts")[0])
    assert texts["Element is not connected"] == expected
    assert texts["{errors} Errors, {warnings} Warnings"].count("{errors}") == 1
    assert not [english for english, shown in texts.items() if shown == english]
