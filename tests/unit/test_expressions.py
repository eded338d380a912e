"""The safe evaluator: what diagrams may compute, and what they may never reach."""
from __future__ import annotations

import pytest

from engine import expressions
from engine.errors import UnsafeExpression
from engine.expressions import EvaluationError

ESCAPES = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "().__class__",
    "''.__class__.__mro__[1].__subclasses__()",
    "[].__class__.__base__",
    "(lambda: 1)()",
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('x=1')",
    "compile('1', 'x', 'eval')",
    "getattr(1, '__class__')",
    "globals()",
    "locals()",
    "vars()",
    "dir()",
    "__builtins__",
    "_secret",
    "type(1)",
    "[x for x in range(3)]",
    "{x: 1 for x in range(3)}",
    "(x for x in range(3))",
    "f'{1}'",
    "uuid.os.system('id')",
    "datetime.datetime.now()",
    "len.__self__",
    "import os",
    "x.__dict__",
    "setattr(x, 'a', 1)",
    "print('x')",
    "breakpoint()",
    "input()",
    "__import__",
    "(1).real",
    "'a' if __debug__ else 'b'",
    "lambda: 0",
    "max(*[1, 2])",
    "dict(**{'a': 1})",
]


@pytest.mark.parametrize("payload", ESCAPES)
def test_escape_payloads_are_refused_before_anything_runs(payload):
    with pytest.raises((UnsafeExpression, SyntaxError)):
        expressions.check(payload)
    with pytest.raises((UnsafeExpression, SyntaxError, EvaluationError)):
        expressions.evaluate(payload, {"x": 1, "uuid": None, "datetime": None})


@pytest.mark.parametrize("source, expected", [
    ('decision == "accept"', True),
    ('outcome in ("done", "no_access")', True),
    ('application["district"]', "yasamal"),
    ('"P2D"', "P2D"),
    ("len(meters) >= 2 and not conflict", True),
    ("value * 3 // 2 - 1", 14),
    ("max(1, value) if conflict is False else 0", 10),
    ("meters[0]['serial'][:2]", "SN"),
])
def test_ordinary_expressions_evaluate(source, expected):
    data = {"decision": "accept", "outcome": "done", "application": {"district": "yasamal"},
            "meters": [{"serial": "SN1"}, {"serial": "SN2"}], "conflict": False, "value": 10}
    assert expressions.evaluate(source, data) == expected


@pytest.mark.parametrize("payload", [
    "'a' * 10 ** 8",
    "'a' * 100000000",
    "[0] * 100000000",
    "9 ** 9 ** 9",
    "99999999999999999999 * 99999999999999999999 * 99999999999999999999 * 99999999999999999999"
    " * 99999999999999999999 * 99999999999999999999 * 99999999999999999999 * 99999999999999999999",
    "range(10 ** 9)",
    "'%s' % 1",
    "x" * 5000,
    " + ".join(["1"] * 500),
])
def test_resource_exhaustion_is_bounded(payload):
    with pytest.raises((UnsafeExpression, EvaluationError, SyntaxError)):
        expressions.evaluate(payload, {"x": 1})


def test_scripts_accept_only_assignments():
    names = {"application": {"district": "nasimi"}}
    expressions.execute('district = application["district"]\nflag = district == "nasimi"', names)
    assert names["district"] == "nasimi" and names["flag"] is True
    for script in ("import os", "x.y = 1", "a, b = 1, 2", "del application", "for i in []: pass",
                   "def f(): pass", "application['x'] = 1"):
        with pytest.raises((UnsafeExpression, SyntaxError)):
            expressions.execute(script, dict(names))


def test_unknown_names_are_clear_errors():
    with pytest.raises(EvaluationError, match="name 'missing' is not defined"):
        expressions.evaluate("missing == 1", {})
