"""The safe expression evaluator used for every gateway, timer, DMN, parameter and script.

Expressions are parsed with :mod:`ast`, checked against a whitelist and then *interpreted*
by walking the tree here; nothing is handed to ``eval`` or ``exec``. Allowed: constants,
names not starting with an underscore, boolean, comparison and arithmetic operators (no
power), conditional expressions, subscripts and slices, list/tuple/dict/set literals, and
calls of a few whitelisted functions by name. Not allowed: attribute access, lambdas,
comprehensions, f-strings, imports, starred arguments. Sizes are bounded: expression text,
number of nodes, length of strings and collections built, and size of integers.

Scripts (``execute``) are sequences of ``name = <expression>`` statements.
"""
from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from engine.errors import EngineError, UnsafeExpression

MAX_SOURCE = 4_000
MAX_NODES = 400
MAX_SEQUENCE = 10_000  # characters in a string, items in a collection built by an expression
MAX_INT_BITS = 256


class EvaluationError(EngineError):
    """A safe expression failed while evaluating (unknown name, wrong type, division by zero)."""


def _bounded_len(value):
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)) and len(value) > MAX_SEQUENCE:
        raise EvaluationError(f"a value built by the expression is longer than {MAX_SEQUENCE}")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise EvaluationError("a number in the expression is too large")
    return value


def _safe_range(*args):
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise EvaluationError(f"range is longer than {MAX_SEQUENCE}")
    return list(r)


def _checked(fn):
    def call(*args, **kwargs):
        for a in args:
            _bounded_len(a)
        return _bounded_len(fn(*args, **kwargs))

    call.__name__ = getattr(fn, "__name__", "function")
    return call


FUNCTIONS: Mapping[str, object] = {
    name: _checked(fn)
    for name, fn in {
        "len": len, "min": min, "max": max, "abs": abs, "round": round, "int": int,
        "float": float, "str": str, "bool": bool, "sum": sum, "sorted": sorted, "any": any,
        "all": all, "list": list, "tuple": tuple, "range": _safe_range,
    }.items()
}

_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_CMPOPS = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}
_UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}
_ALLOWED_NODES = (
    ast.Expression, ast.Module, ast.Assign, ast.Expr, ast.Constant, ast.Name, ast.Load, ast.Store,
    ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Subscript,
    ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Call, ast.keyword,
    *_BINOPS, *_CMPOPS, *_UNARY,
)


def _check_tree(tree: ast.AST, source: str) -> None:
    count = 0
    for node in ast.walk(tree):
        count += 1
        if count > MAX_NODES:
            raise UnsafeExpression(f"expression is too complex (more than {MAX_NODES} parts)", source)
        if not isinstance(node, _ALLOWED_NODES):
            raise UnsafeExpression(f"'{type(node).__name__}' is not allowed in expressions", source)
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise UnsafeExpression(f"names starting with '_' are not allowed: {node.id}", source)
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (str, int, float, bool, type(None))):
                raise UnsafeExpression("only text, number, boolean and None constants are allowed", source)
            _check_constant(node.value, source)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise UnsafeExpression(f"calling '{name}' is not allowed", source)
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                raise UnsafeExpression("starred arguments are not allowed", source)
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise UnsafeExpression("a script line must assign one plain name: name = expression", source)
        if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
            raise UnsafeExpression("a script line must be an assignment: name = expression", source)


def _check_constant(value, source):
    try:
        _bounded_len(value)
    except EvaluationError as err:
        raise UnsafeExpression(str(err), source) from None


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> ast.Expression:
    """Parse and check an expression; raises ``SyntaxError`` or ``UnsafeExpression``."""
    _check_source(source)
    tree = ast.parse(source.strip(), mode="eval")
    _check_tree(tree, source)
    return tree


@lru_cache(maxsize=1024)
def compile_script(source: str) -> ast.Module:
    _check_source(source)
    tree = ast.parse(source, mode="exec")
    _check_tree(tree, source)
    return tree


def _check_source(source: str) -> None:
    if not isinstance(source, str):
        raise UnsafeExpression("an expression must be text")
    if len(source) > MAX_SOURCE:
        raise UnsafeExpression(f"expression is longer than {MAX_SOURCE} characters", source[:80])
    if "\x00" in source:
        raise UnsafeExpression("expression contains a NUL character", "")


@dataclass
class _Interpreter:
    names: Mapping

    def run(self, node):
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

    def _Expression(self, node):
        return self.run(node.body)

    def _Constant(self, node):
        return node.value

    def _Name(self, node):
        try:
            value = self.names[node.id]
        except KeyError:
            raise EvaluationError(f"name '{node.id}' is not defined") from None
        if callable(value):
            raise EvaluationError(f"'{node.id}' cannot be used as a value")
        return value

    def _BoolOp(self, node):
        if isinstance(node.op, ast.And):
            value = True
            for v in node.values:
                value = self.run(v)
                if not value:
                    return value
            return value
        value = False
        for v in node.values:
            value = self.run(v)
            if value:
                return value
        return value

    def _BinOp(self, node):
        left, right = self.run(node.left), self.run(node.right)
        if isinstance(node.op, ast.Mult):
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * max(n, 0) > MAX_SEQUENCE:
                    raise EvaluationError(f"a value built by the expression is longer than {MAX_SEQUENCE}")
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise EvaluationError("text formatting with % is not allowed")
        try:
            return _bounded_len(_BINOPS[type(node.op)](left, right))
        except (TypeError, ZeroDivisionError, OverflowError) as err:
            raise EvaluationError(str(err)) from None

    def _UnaryOp(self, node):
        try:
            return _UNARY[type(node.op)](self.run(node.operand))
        except TypeError as err:
            raise EvaluationError(str(err)) from None

    def _Compare(self, node):
        left = self.run(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            right = self.run(comparator)
            try:
                if not _CMPOPS[type(op)](left, right):
                    return False
            except TypeError as err:
                raise EvaluationError(str(err)) from None
            left = right
        return True

    def _IfExp(self, node):
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _Subscript(self, node):
        value, index = self.run(node.value), self.run(node.slice)
        try:
            return value[index]
        except (KeyError, IndexError, TypeError) as err:
            raise EvaluationError(f"no item {err} in value") from None

    def _Slice(self, node):
        parts = [None if p is None else self.run(p) for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def _List(self, node):
        return _bounded_len([self.run(e) for e in node.elts])

    def _Tuple(self, node):
        return _bounded_len(tuple(self.run(e) for e in node.elts))

    def _Set(self, node):
        try:
            return _bounded_len({self.run(e) for e in node.elts})
        except TypeError as err:
            raise EvaluationError(str(err)) from None

    def _Dict(self, node):
        if any(k is None for k in node.keys):
            raise EvaluationError("'**' in a dictionary is not allowed")
        try:
            return _bounded_len({self.run(k): self.run(v) for k, v in zip(node.keys, node.values)})
        except TypeError as err:
            raise EvaluationError(str(err)) from None

    def _Call(self, node):
        fn = FUNCTIONS[node.func.id]
        args = [self.run(a) for a in node.args]
        kwargs = {k.arg: self.run(k.value) for k in node.keywords}
        try:
            return fn(*args, **kwargs)
        except EvaluationError:
            raise
        except (TypeError, ValueError, OverflowError) as err:
            raise EvaluationError(f"{node.func.id}(): {err}") from None


def evaluate(source: str, names: Mapping) -> object:
    """Evaluate a safe expression over ``names`` (task data and any extra context)."""
    return _Interpreter(names).run(compile_expression(source))


def execute(source: str, names: dict) -> None:
    """Run ``name = expression`` lines, storing each result in ``names``."""
    interp = _Interpreter(names)
    for stmt in compile_script(source).body:
        if isinstance(stmt, ast.Expr):  # a bare docstring-like constant: nothing to do
            continue
        names[stmt.targets[0].id] = interp.run(stmt.value)


def check(source: str) -> None:
    """Raise ``SyntaxError`` or ``UnsafeExpression`` if ``source`` is not an accepted expression."""
    compile_expression(source)
