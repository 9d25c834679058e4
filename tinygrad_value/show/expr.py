"""A tiny expression language for the CLI (``x=2.0; w=-3.0; n=x*w; o=n.tanh()``), never eval'd.

Python's ``ast`` parses the text; this module then walks the tree and accepts only numbers,
names, assignments to a name, ``+ - * / **``, unary ``-``/``+`` and the op-table functions,
written as calls (``tanh(n)``, ``sum(a, b, c)``) or as methods (``n.tanh()``). Everything else
(attribute access, imports, strings, subscripts, lambdas, unknown calls, ...) raises
``ExprError`` with the source line and a caret under the offending part. Each assignment
labels its Value with the name; the last statement gives the root.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from ..engine import value as _value
from ..engine.ops import OPS
from ..engine.value import Value, no_grad

MAX_SOURCE = 20_000  # characters; the stepper is for graphs a person can read

# Read from the op table, so a new op is in the language the day it is added: the one- and
# two-input ops that Value has as methods under their own name (n.tanh() or tanh(n),
# a.max(b) or max(a, b); neg and powc are written -x and x ** k), and the n-ary ops, which are
# functions of a list (sum(a, b, c), dot([x1, x2], [w1, w2])). Ops that draw random numbers
# (dropout masks) are left out: an expression means the same number every time it is read.
METHODS = tuple(name for name, op in OPS.items()
                if op.arity in (1, 2) and not op.draws and callable(getattr(Value, name, None)))
NARY = {name: getattr(_value, name) for name, op in OPS.items() if op.arity == -1}
FUNCTIONS = METHODS + tuple(NARY)

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}

Operand = Union[Value, float]


class ExprError(ValueError):
    """An expression the stepper does not accept, with where in the source it went wrong."""

    def __init__(self, message: str, source: str = "", node: ast.AST | None = None) -> None:
        self.reason = message
        self.lineno = getattr(node, "lineno", None)
        self.col = getattr(node, "col_offset", None)
        super().__init__(message + _pointer(source, node))


def _pointer(source: str, node: ast.AST | None) -> str:
    """The offending source line with carets under the node (column numbers are 0-based)."""
    if node is None or not source or getattr(node, "lineno", None) is None:
        return ""
    lines = source.splitlines() or [""]
    line = lines[min(node.lineno, len(lines)) - 1]
    start = node.col_offset
    end = node.end_col_offset if node.end_lineno == node.lineno else len(line)
    end = max(end or start + 1, start + 1)
    where = f" (line {node.lineno}, column {start + 1})" if len(lines) > 1 else \
        f" (column {start + 1})"
    return f"{where}\n  {line}\n  {' ' * start}{'^' * (end - start)}"


@dataclass
class Parsed:
    """A parsed and evaluated expression: the root Value and each assigned name's Value.

    (Named apart from ``compiled.replay.Program``, the runtime of ``tv.compile``.)"""

    root: Value
    names: dict[str, Value]
    source: str


def parse(source: str) -> Parsed:
    """Evaluate ``source`` with the tiny language above; ``ExprError`` for anything else."""
    if not isinstance(source, str):
        raise TypeError(f"expected the expression as a str, got {type(source).__name__}")
    if len(source) > MAX_SOURCE:
        raise ExprError(f"expression too long ({len(source)} characters; limit {MAX_SOURCE})")
    if not source.strip():
        raise ExprError("empty expression: write something like 'x=2.0; y=x*x'")
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and co.: not for the CLI
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source, mode="exec")
    except SyntaxError as e:
        node = None
        if e.lineno:
            node = ast.Constant(0, lineno=e.lineno, col_offset=max((e.offset or 1) - 1, 0),
                                end_lineno=e.lineno, end_col_offset=max(e.offset or 1, 1))
        raise ExprError(f"syntax error: {e.msg}", source, node) from None
    except (RecursionError, MemoryError):
        raise ExprError("expression nested too deeply for the stepper") from None
    except ValueError as e:  # e.g. a null byte in the source
        raise ExprError(f"cannot parse the expression: {e}") from None
    try:
        return _Evaluator(source).run(tree)
    except RecursionError:
        raise ExprError("expression nested too deeply for the stepper") from None


def evaluate(source: str) -> Value:
    """The root Value of ``source`` (see ``parse``)."""
    return parse(source).root


class _Evaluator:
    def __init__(self, source: str) -> None:
        self.source = source
        self.env: dict[str, Value] = {}

    def error(self, message: str, node: ast.AST) -> ExprError:
        return ExprError(message, self.source, node)

    def run(self, tree: ast.Module) -> Parsed:
        if not tree.body:
            raise ExprError("empty expression: write something like 'x=2.0; y=x*x'")
        root: Operand | None = None
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign):
                if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                    raise self.error("only assignments to one plain name are allowed "
                                     "(like 'n = x * w')", stmt.targets[0])
                name = stmt.targets[0].id
                self._check_name(name, stmt.targets[0])
                value = self.expr(stmt.value)
                value = self._as_value(value)
                if not value.label:  # `y = x` keeps x's label; the name still refers to it
                    value.label = name
                self.env[name] = value
                root = value
            elif isinstance(stmt, ast.Expr):
                root = self.expr(stmt.value)
            else:
                raise self.error(f"{_describe(stmt)} is not allowed: write assignments "
                                 "'name = expression' separated by ';'", stmt)
        return Parsed(self._as_value(root), dict(self.env), self.source)

    def _as_value(self, x: Operand) -> Value:
        return x if isinstance(x, Value) else Value(x)

    def _check_name(self, name: str, node: ast.AST) -> None:
        if name.startswith("_"):
            raise self.error(f"names starting with '_' are not allowed: {name!r}", node)

    def expr(self, node: ast.AST) -> Operand:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise self.error(f"only numbers are allowed as constants, not {type(v).__name__} "
                                 f"{_clip(repr(v))}", node)
            try:
                return float(v)
            except OverflowError:  # an int literal past 1.8e308 (decimal or hex)
                width = (node.end_col_offset or 0) - node.col_offset
                raise self.error(f"this number ({width} characters long) is too large: a Value "
                                 "holds a float, at most about 1.8e308; write a smaller number "
                                 "(or 1e308)", node) from None
        if isinstance(node, ast.Name):
            self._check_name(node.id, node)
            if node.id not in self.env:
                hint = " (it is a function: call it, like tanh(x))" if node.id in FUNCTIONS else ""
                raise self.error(f"unknown name {node.id!r}: assign it first, like "
                                 f"'{node.id}=1.0'{hint}", node)
            return self.env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            a, b = self.expr(node.left), self.expr(node.right)
            return self._apply(node, _BINOPS[type(node.op)], a, b)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            a = self.expr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return a
            return self._apply(node, operator.neg, a)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            raise self.error(f"attribute access '.{node.attr}' is not allowed; the only methods "
                             f"are op calls like n.tanh() ({', '.join(METHODS)})", node)
        raise self.error(f"{_describe(node)} is not allowed here; use numbers, names, "
                         "+ - * / **, and op functions", node)

    def call(self, node: ast.Call) -> Operand:
        if node.keywords:
            raise self.error("keyword arguments are not allowed", node.keywords[0].value
                             if node.keywords[0].arg is None else node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error("*arguments are not allowed", arg)
        func = node.func
        if isinstance(func, ast.Attribute):  # n.tanh()
            if func.attr not in METHODS:
                raise self.error(f"unknown method '.{func.attr}()': the methods are "
                                 f"{', '.join(METHODS)}", func)
            name = func.attr
            args = [self.expr(func.value)] + [self.expr(a) for a in node.args]
        elif isinstance(func, ast.Name):  # tanh(n)
            if func.id not in FUNCTIONS:
                raise self.error(f"unknown function {func.id!r}(): the functions are "
                                 f"{', '.join(FUNCTIONS)}", func)
            name = func.id
            if name == "dot":
                return self._dot(node)
            args = [self.expr(a) for a in node.args]
        else:
            raise self.error("only op functions can be called, like tanh(x) or x.tanh()", func)
        return self._call(node, name, args)

    def _call(self, node: ast.Call, name: str, args: list[Operand]) -> Operand:
        if name in NARY:
            if not args:
                raise self.error(f"{name}() needs at least one argument", node)
            return self._guard(node, lambda: NARY[name](args))
        if OPS[name].arity == 2:  # max(a, b): two operands, Values or numbers
            if len(args) != 2:
                raise self.error(f"{name}() takes exactly two arguments, got {len(args)}", node)
            method = getattr(Value, name)  # a number first is lifted, as in 2 - x
            return self._apply(node, lambda a, b: method(a if isinstance(a, Value) else Value(a),
                                                         b), args[0], args[1])
        if OPS[name].has_param:  # a number: leaky_relu's (optional) slope, clamp_min's bound
            if len(args) not in (1, 2) or (len(args) == 2 and isinstance(args[1], Value)):
                raise self.error(f"{name} takes a value and an optional number", node)
        elif len(args) != 1:
            raise self.error(f"{name}() takes exactly one argument, got {len(args)}", node)
        # tanh(n) is n.tanh(); leaky_relu(n, 0.1) is n.leaky_relu(0.1)
        return self._apply(node, operator.methodcaller(name, *args[1:]), args[0])

    def _dot(self, node: ast.Call) -> Operand:
        lists = node.args
        if len(lists) == 2 and all(isinstance(a, (ast.List, ast.Tuple)) for a in lists):
            xs = [self.expr(e) for e in lists[0].elts]
            ws = [self.expr(e) for e in lists[1].elts]
            return self._guard(node, lambda: NARY["dot"](xs, ws))
        raise self.error("dot takes two lists of equal length: dot([x1, x2], [w1, w2])", node)

    def _apply(self, node: ast.AST, fn: Callable[..., Operand], a: Operand,
               b: Operand | None = None) -> Operand:
        """``fn(a)`` or ``fn(a, b)``; numbers-only subexpressions are folded into a plain number."""
        args = (a,) if b is None else (a, b)
        if any(isinstance(x, Value) for x in args):
            return self._guard(node, lambda: fn(*args))
        with no_grad():  # 2 * 3: computed by the engine (same errors), kept as the number 6
            result = self._guard(node, lambda: fn(Value(a), *args[1:]))
        return result.data

    def _guard(self, node: ast.AST, fn):
        try:
            out = fn()
        except (ValueError, ZeroDivisionError, OverflowError, TypeError) as e:
            raise self.error(str(e), node) from None
        if isinstance(out, Value) and math.isnan(out.data):
            raise self.error("the result is not a number (nan)", node)
        return out


def _describe(node: ast.AST) -> str:
    kinds = {ast.Import: "import", ast.ImportFrom: "import", ast.Lambda: "a lambda",
             ast.Subscript: "indexing with []", ast.FunctionDef: "a function definition",
             ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.JoinedStr: "an f-string",
             ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict",
             ast.AugAssign: "augmented assignment (+=)", ast.IfExp: "if/else",
             ast.NamedExpr: "the := operator"}
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    if isinstance(node, ast.UnaryOp):
        return f"the unary operator {type(node.op).__name__}"
    return kinds.get(type(node), type(node).__name__)


def _clip(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
