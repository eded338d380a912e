"""The safe expression evaluator used for every gateway, timer, DMN, parameter and script.

Expressions are parsed with :mod:`ast`, checked against a whitelist and then *interpreted*
by walking the tree here; nothing is handed to ``eval`` or ``exec``. Allowed: constants,
names not starting with an underscore, boolean, comparison and arithmetic operators (no
power), conditional expressions, subscripts and slices, list/tuple/dict/set literals, and
calls of a few whitelisted functions by name. Not allowed: attribute access, lambdas,
comprehensions, f-strings, imports, starred arguments.

Every failure is an :class:`~engine.errors.ExpressionError`: text that does not parse (a
syntax error, or nesting the parser gives up on) is an :class:`InvalidExpression`, something
not allowed an :class:`UnsafeExpression`, a failure while computing an :class:`EvaluationError`.

Work is bounded so no expression can hold a thread for long:

- the text (``MAX_SOURCE`` characters), its parts (``MAX_NODES``) and nesting (``MAX_DEPTH``);
- every value built: ``MAX_SEQUENCE`` characters or items, ``MAX_INT_BITS`` for integers, and
  ``MAX_WEIGHT`` for its *weight*, the number of items counted through every nested level (a
  list holding the same 10,000-item list 10,000 times weighs 100 million, although it took
  only 10,000 references to build);
- one evaluation's total work, ``BUDGET`` steps: each part evaluated costs one, each value
  built or walked by a function, comparison or operator costs its weight.

Scripts (``execute``) are sequences of ``name = <expression>`` statements sharing one budget.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal, TypeVar, overload

from engine.errors import (
    EvaluationError,
    ExpressionError,
    InvalidExpression,
    UnsafeExpression,
)

__all__ = [
    "EvaluationError",
    "ExpressionError",
    "InvalidExpression",
    "UnsafeExpression",
    "check",
    "compile_expression",
    "compile_script",
    "evaluate",
    "execute",
]

MAX_SOURCE = 1_000
MAX_NODES = 400
MAX_DEPTH = 40
MAX_SEQUENCE = 10_000  # characters in a string, items in a collection built by an expression
MAX_INT_BITS = 256
MAX_WEIGHT = 50_000
BUDGET = 500_000
MAX_ROUND_DIGITS = 20
_CONTAINERS = (list, tuple, dict, set, frozenset)
_V = TypeVar("_V")


def _too_long() -> EvaluationError:
    return EvaluationError(f"a value built by the expression is longer than {MAX_SEQUENCE}")


def _bounded_len(value: _V) -> _V:
    if isinstance(value, (str, bytes, *_CONTAINERS)) and len(value) > MAX_SEQUENCE:
        raise _too_long()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise EvaluationError("a number in the expression is too large")
    return value


def _range(*args: int) -> list[int]:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise EvaluationError(f"range is longer than {MAX_SEQUENCE}")
    return list(r)


def _sum(items: Iterable[float], start: float = 0) -> float:
    if not isinstance(start, (int, float)):
        raise EvaluationError("sum() adds numbers only")
    return sum(items, start)


def _round(number: float, ndigits: int | None = None) -> float:
    if ndigits is None:
        return round(number)
    if not isinstance(ndigits, int) or abs(ndigits) > MAX_ROUND_DIGITS:
        raise EvaluationError(f"round() takes at most {MAX_ROUND_DIGITS} digits")
    return round(number, ndigits)


_WALKING = {
    "sorted",
    "min",
    "max",
    "sum",
    "any",
    "all",
    "str",
    "list",
    "tuple",
}  # cost grows with input
FUNCTIONS: Mapping[str, Callable[..., object]] = {
    "len": len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": _round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "sum": _sum,
    "sorted": sorted,
    "any": any,
    "all": all,
    "list": list,
    "tuple": tuple,
    "range": _range,
}

# the operator module's functions take and give any value; so do these tables
_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_CMPOPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.Not: operator.not_,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_ALLOWED_NODES = (
    ast.Expression,
    ast.Module,
    ast.Assign,
    ast.Expr,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.IfExp,
    ast.Subscript,
    ast.Slice,
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.Call,
    ast.keyword,
    *_BINOPS,
    *_CMPOPS,
    *_UNARY,
)
# What Python itself may raise while computing an allowed operation on hostile values.
_COMPUTE_ERRORS = (TypeError, ValueError, ArithmeticError, LookupError, RecursionError, MemoryError)


def _check_tree(tree: ast.AST, source: str) -> None:
    count = 0
    todo = [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        count += 1
        if count > MAX_NODES:
            raise UnsafeExpression(
                f"expression is too complex (more than {MAX_NODES} parts)", source
            )
        if depth > MAX_DEPTH:
            raise UnsafeExpression(
                f"expression is nested more than {MAX_DEPTH} levels deep", source
            )
        _check_node(node, source)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_node(node: ast.AST, source: str) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise UnsafeExpression(f"'{type(node).__name__}' is not allowed in expressions", source)
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise UnsafeExpression(f"names starting with '_' are not allowed: {node.id}", source)
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (str, int, float, bool, type(None))):
            raise UnsafeExpression(
                "only text, number, boolean and None constants are allowed", source
            )
        try:
            _bounded_len(node.value)
        except EvaluationError as err:
            raise UnsafeExpression(str(err), source) from None
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = node.func.id if isinstance(node.func, ast.Name) else type(node.func).__name__
            raise UnsafeExpression(f"calling '{name}' is not allowed", source)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
            k.arg is None for k in node.keywords
        ):
            raise UnsafeExpression("starred arguments are not allowed", source)
    if isinstance(node, ast.Assign) and (
        len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name)
    ):
        raise UnsafeExpression(
            "a script line must assign one plain name: name = expression", source
        )
    if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Constant):
        raise UnsafeExpression("a script line must be an assignment: name = expression", source)


@overload
def _parse(source: str, mode: Literal["eval"]) -> ast.Expression: ...
@overload
def _parse(source: str, mode: Literal["exec"]) -> ast.Module: ...
def _parse(source: str, mode: Literal["eval", "exec"]) -> ast.AST:
    if not isinstance(source, str):
        raise UnsafeExpression("an expression must be text")
    if len(source) > MAX_SOURCE:
        raise UnsafeExpression(f"expression is longer than {MAX_SOURCE} characters", source[:80])
    if "\x00" in source:
        raise UnsafeExpression("expression contains a NUL character", "")
    try:
        tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
    except SyntaxError as err:
        raise InvalidExpression(f"not a valid expression: {err.msg}", source) from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise InvalidExpression("not a valid expression: it is nested too deeply", source) from None
    _check_tree(tree, source)
    return tree


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> ast.Expression:
    """Parse and check an expression; raises ``InvalidExpression`` or ``UnsafeExpression``."""
    return _parse(source, "eval")


@lru_cache(maxsize=1024)
def compile_script(source: str) -> ast.Module:
    return _parse(source, "exec")


class _Interpreter:
    def __init__(self, names: Mapping[str, object]) -> None:
        self.names = names
        self.spent = 0
        self._weights: dict[int, tuple[object, int]] = {}  # id -> (value kept alive, weight)

    def charge(self, cost: int) -> None:
        self.spent += cost
        if self.spent > BUDGET:
            raise EvaluationError("the expression does too much work")

    def weigh(self, value: object, depth: int = 0) -> int:
        """Items counted through every level, at most ``MAX_WEIGHT`` (beyond that: refused)."""
        if isinstance(value, (str, bytes)):
            return 1 + len(value)
        if not isinstance(value, _CONTAINERS):
            return 1
        known = self._weights.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        if depth > MAX_DEPTH:
            raise EvaluationError(f"a value is nested more than {MAX_DEPTH} levels deep")
        total = 1
        for item in value.items() if isinstance(value, dict) else value:
            total += 1 + self.weigh(item, depth + 1)
            if total > MAX_WEIGHT:
                raise EvaluationError(
                    f"a value built by the expression holds more than {MAX_WEIGHT} items"
                )
        self._weights[id(value)] = (value, total)
        return total

    def built(self, value: _V) -> _V:
        """Check and pay for a value the expression has just built."""
        _bounded_len(value)
        self.charge(self.weigh(value))
        return value

    def run(self, node: ast.AST) -> object:
        self.charge(1)
        method: Callable[[ast.AST], object] = getattr(self, "_" + type(node).__name__)
        return method(node)

    def _Expression(self, node: ast.Expression) -> object:
        return self.run(node.body)

    def _Constant(self, node: ast.Constant) -> object:
        return node.value

    def _Name(self, node: ast.Name) -> object:
        try:
            value = self.names[node.id]
        except KeyError:
            raise EvaluationError(f"name '{node.id}' is not defined") from None
        if callable(value):
            raise EvaluationError(f"'{node.id}' cannot be used as a value")
        return value

    def _BoolOp(self, node: ast.BoolOp) -> object:
        stop_when = not isinstance(
            node.op, ast.And
        )  # `and` stops at a false value, `or` at a true one
        value: object = not stop_when
        for v in node.values:
            value = self.run(v)
            if bool(value) is stop_when:
                return value
        return value

    def _BinOp(self, node: ast.BinOp) -> object:
        left, right = self.run(node.left), self.run(node.right)
        if isinstance(node.op, ast.Mult):
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                    if len(seq) * max(n, 0) > MAX_SEQUENCE:
                        raise _too_long()
                    self.charge((len(seq) if isinstance(seq, str) else self.weigh(seq)) * max(n, 0))
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            raise EvaluationError("text formatting with % is not allowed")
        if isinstance(node.op, ast.Add) and isinstance(left, (str, list, tuple)):
            self.charge(self.weigh(left) + self.weigh(right))
        return self.built(_BINOPS[type(node.op)](left, right))

    def _UnaryOp(self, node: ast.UnaryOp) -> object:
        return self.built(_UNARY[type(node.op)](self.run(node.operand)))

    def _Compare(self, node: ast.Compare) -> bool:
        left = self.run(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=False):
            right = self.run(comparator)
            self.charge(self.weigh(left) + self.weigh(right))
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> object:
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _Subscript(self, node: ast.Subscript) -> object:
        # whatever the data holds: what cannot be indexed raises TypeError, reported as an EvaluationError
        value: Any = self.run(node.value)
        index = self.run(node.slice)
        try:
            return self.built(value[index])
        except (KeyError, IndexError) as err:
            raise EvaluationError(f"no item {err} in value") from None

    def _Slice(self, node: ast.Slice) -> slice:
        return slice(
            *(None if p is None else self.run(p) for p in (node.lower, node.upper, node.step))
        )

    def _List(self, node: ast.List) -> object:
        return self.built([self.run(e) for e in node.elts])

    def _Tuple(self, node: ast.Tuple) -> object:
        return self.built(tuple(self.run(e) for e in node.elts))

    def _Set(self, node: ast.Set) -> object:
        return self.built({self.run(e) for e in node.elts})

    def _Dict(self, node: ast.Dict) -> object:
        keys = [k for k in node.keys if k is not None]
        if len(keys) < len(node.keys):
            raise EvaluationError("'**' in a dictionary is not allowed")
        return self.built(
            {self.run(k): self.run(v) for k, v in zip(keys, node.values, strict=False)}
        )

    def _Call(self, node: ast.Call) -> object:
        name = (
            node.func.id if isinstance(node.func, ast.Name) else ""
        )  # checked: a whitelisted name
        args = [self.run(a) for a in node.args]
        kwargs = {k.arg or "": self.run(k.value) for k in node.keywords}  # checked: no ``**``
        if name in _WALKING:
            work = sum(self.weigh(a) for a in [*args, *kwargs.values()])
            if name == "sorted" and args and isinstance(args[0], (str, *_CONTAINERS)):
                work *= max(1, math.ceil(math.log2(len(args[0]) + 1)))  # comparisons of n log n
            self.charge(work)
        try:
            return self.built(FUNCTIONS[name](*args, **kwargs))
        except ExpressionError:
            raise
        except _COMPUTE_ERRORS as err:
            raise EvaluationError(f"{name}(): {err}") from None


def _interpret(interp: _Interpreter, node: ast.AST) -> object:
    try:
        return interp.run(node)
    except ExpressionError:
        raise
    except _COMPUTE_ERRORS as err:
        raise EvaluationError(f"{type(err).__name__}: {err}"[:300]) from None


def evaluate(source: str, names: Mapping[str, object]) -> object:
    """Evaluate a safe expression over ``names`` (task data and any extra context)."""
    return _interpret(_Interpreter(names), compile_expression(source))


def execute(source: str, names: dict[str, object]) -> None:
    """Run ``name = expression`` lines, storing each result in ``names``."""
    interp = _Interpreter(names)
    for stmt in compile_script(source).body:
        # checked: each line is a bare constant (nothing to do) or assigns one plain name
        if isinstance(stmt, ast.Assign) and isinstance(target := stmt.targets[0], ast.Name):
            names[target.id] = _interpret(interp, stmt.value)


def check(source: str) -> None:
    """Raise ``InvalidExpression`` or ``UnsafeExpression`` if ``source`` is not an accepted expression."""
    compile_expression(source)
