"""The stepper's expression language: ast-parsed, a whitelist, errors that point at the problem."""

from __future__ import annotations

import math

import pytest

import tinygrad_value as tv
from tinygrad_value.show.expr import ExprError, evaluate, parse


def test_the_issue_example():
    p = parse("x=2.0; w=-3.0; b=6.88; n=x*w+b; o=n.tanh()")
    assert p.root.label == "o"
    assert p.root.data == pytest.approx(math.tanh(2.0 * -3.0 + 6.88))
    assert list(p.names) == ["x", "w", "b", "n", "o"]
    assert p.names["n"].op == "+" and p.names["x"].op == ""
    assert p.names["n"].children[1] is p.names["b"]


def test_functions_and_methods_are_the_same_ops():
    a = parse("x=0.3; y=tanh(x)").root
    b = parse("x=0.3; y=x.tanh()").root
    assert a.op == b.op == "tanh" and a.data == b.data


@pytest.mark.parametrize("src, expected", [
    ("x=1.5; y=x**2", 2.25),
    ("x=1.5; y=2**x", 2 ** 1.5),
    ("x=4.0; y=-x/2", -2.0),
    ("x=4.0; y=+x - 1", 3.0),
    ("x=4.0; y=sqrt(x) + abs(-x) + relu(x - 5)", 6.0),
    ("x=-2.0; y=leaky_relu(x, 0.1)", -0.2),
    ("x=-2.0; y=x.leaky_relu()", -0.02),
    ("x=1.0; y=2.0; s=sum(x, y, x*y)", 5.0),
    ("x=1.0; y=2.0; d=dot([x, y], [y, 3])", 8.0),
    ("x=1.0; y=log(exp(x)) + sigmoid(0*x)", 1.5),
    ("x=2\ny=x*x", 4.0),
    ("x=2; x*3", 6.0),  # a last bare expression is the root
])
def test_accepted_programs(src, expected):
    assert evaluate(src).data == pytest.approx(expected)


def test_number_only_subexpressions_fold_into_constants():
    y = parse("x=2.0; y=x*(1/4)").root
    assert [c.data for c in y.children] == [2.0, 0.25]  # one constant leaf, not a (1/4) node


def test_reused_name_keeps_one_node_and_backward_works():
    p = parse("x=3.0; y=x*x")
    assert p.root.children == (p.names["x"], p.names["x"])
    p.root.backward()
    assert p.names["x"].grad == 6.0


def test_alias_keeps_the_original_label():
    p = parse("x=3.0; y=x")
    assert p.root is p.names["x"] and p.root.label == "x"


HOSTILE = [
    ("__import__('os').system('echo hi')", "system"),
    ("x=1; x.__class__", "__class__"),
    ("open('f')", "open"),
    ("x=1; y=x.__class__.__bases__[0]", None),
    ("lambda: 1", "lambda"),
    ("(lambda: 1)()", None),
    ("x=[1][0]", None),
    ("x='s'", "str"),
    ("import os", "import"),
    ("x=1; eval('x')", "eval"),
    ("x=1; y=x.tanh", "tanh"),
    ("x=1; y=x.exp.__globals__", None),
    ("x=1; y=tanh(x=x)", "keyword"),
    ("x=1; y=tanh(*[x])", None),
    ("x = y = 1", None),
    ("x=1; x += 1", "+="),
    ("x=1; y=x if x else x", "if/else"),
    ("x=1; y=x < 2", "comparison"),
    ("x=1; y=x // 2", "FloorDiv"),
    ("x=1; y=x @ x", "MatMult"),
    ("_x=1", "_"),
    ("y=z*2", "unknown name 'z'"),
    ("x=True", "bool"),
    ("x=1j", "complex"),
    ("def f(): pass", "function"),
    ("x=1; del x", None),
    ("x=(1,2)", "tuple"),
    ("x=1 +", "syntax"),
    ("", "empty"),
    ("x=1; y=log(x-1)", "log"),
    ("x=1; y=x/0", "division by zero"),
    ("x=1; y=unknownfn(x)", "unknownfn"),
    ("x=1; y=tanh(x, x)", "one argument"),
    ("x=1; y=dot(x, x)", "two lists"),
]


@pytest.mark.parametrize("src, fragment", HOSTILE)
def test_rejected_with_a_clear_error(src, fragment):
    with pytest.raises(ExprError) as info:
        parse(src)
    err = info.value
    assert isinstance(err, ValueError)
    if fragment:
        assert fragment in str(err)


def test_error_points_at_the_offending_part():
    with pytest.raises(ExprError) as info:
        parse("x=1.0; y=x.__class__")
    lines = str(info.value).splitlines()
    assert lines[-2].strip() == "x=1.0; y=x.__class__"
    caret = lines[-1]
    start = caret.index("^")
    # the carets sit under `x.__class__` in the echoed source line
    assert lines[-2][start:start + caret.count("^")] == "x.__class__"
    assert info.value.col == 9 and "column 10" in lines[0]


def test_nothing_is_ever_executed(tmp_path):
    marker = tmp_path / "pwned"
    for src in (f"__import__('os').system('touch {marker}')",
                f"open('{marker}', 'w')",
                f"x=1; x.__class__.__init__.__globals__['os'].system('touch {marker}')"):
        with pytest.raises(ExprError):
            parse(src)
    assert not marker.exists()


def test_deep_nesting_is_an_error_not_a_crash():
    for terms in (1_500, 6_000):  # past Python's recursion limit, under the length limit
        with pytest.raises(ExprError, match="nested too deeply"):
            parse("x=1; y=" + "+".join(["x"] * terms))
    with pytest.raises(ExprError, match="too long"):
        parse("x=1; y=" + "+".join(["x"] * 50_000))
    with pytest.raises(ExprError):
        parse("x=1; y=" + "(" * 300 + "x" + ")" * 300)


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError):
        parse(3)  # type: ignore[arg-type]


def test_exported_name():
    assert tv.ExprError is ExprError
