"""The NX builder: readable output, and no value or name can change an expression's structure."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ninox_backend import nx

# ---- a small NX tokenizer, independent of the code under test -------------------------

_UNESCAPE = {"n": "\n", "t": "\t", "r": "\r"}
KEYWORDS = {"select", "where", "and", "or", "not", "true", "false", "null"}
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+(?:\.\d+)?)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<qname>'(?:[^'\\]|\\.)*')
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>:=|<=|>=|!=|[=<>+\-*/.,;()\[\]])
    )""",
    re.VERBOSE | re.DOTALL,
)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), text[1:-1], flags=re.S)


def tokenize(source: str) -> list[tuple[str, str]]:
    """(kind, value) pairs; string and name literals decoded. Fails on anything unexpected."""
    tokens, position = [], 0
    while position < len(source.rstrip()):
        match = _TOKEN.match(source, position)
        assert match, f"cannot tokenize at {position}: {source[position:]!r}"
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind in ("str", "qname"):
            value = _unquote(value)
        if kind == "word":
            kind = "kw" if value in KEYWORDS else "name"
        tokens.append(("name" if kind == "qname" else kind, value))
        position = match.end()
    return tokens


def shape(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Tokens with literal contents blanked out: the expression's structure."""
    return [(kind, "" if kind in ("str", "name") else value) for kind, value in tokens]


# ---- readable output ------------------------------------------------------------------


def test_a_select_with_conditions_reads_like_nx() -> None:
    expr = nx.select("Grants").where(
        nx.eq(nx.field("Lodge", "Number"), 123), nx.ge("Grant Date", nx.date(2026, 5, 1))
    )
    assert str(expr) == (
        "select Grants where (Lodge.Number = 123 and 'Grant Date' >= date(2026, 5, 1))"
    )


def test_aggregates_over_a_field_of_a_selection() -> None:
    grants = nx.select("Grants").where(nx.eq(nx.field("Lodge", "Number"), 123))
    assert str(nx.sum_(grants, "Amount")) == "sum((select Grants where Lodge.Number = 123).Amount)"
    assert str(nx.count(nx.select("Lodges"))) == "count(select Lodges)"
    assert str(nx.max_(grants, "Amount")).startswith("max((select Grants")
    assert str(nx.min_(grants, "Amount")).startswith("min(")
    assert str(nx.first(nx.select("Lodges"))) == "first(select Lodges)"


def test_conditions_combine_with_and_or_not() -> None:
    expr = nx.or_(nx.and_(nx.gt("A", 1), nx.lt("B", 2)), nx.not_(nx.ne("C", None)))
    assert str(expr) == "((A > 1 and B < 2) or not (C != null))"
    assert str(nx.le("D", Decimal("0.10"))) == "D <= 0.10"


def test_literals_of_every_kind() -> None:
    assert str(nx.literal('say "hi"\\\n')) == '"say \\"hi\\"\\\\\\n"'
    assert str(nx.literal(Decimal("1E+3"))) == "1000"
    assert str(nx.literal(-5)) == "-5"
    assert str(nx.literal(True)) == "true"
    assert str(nx.literal(None)) == "null"
    assert str(nx.literal(dt.date(2026, 5, 1))) == "date(2026, 5, 1)"
    assert str(nx.literal([1, "a"])) == '[1, "a"]'


def test_names_are_bare_only_when_plain_identifiers() -> None:
    assert nx.name("Amount") == "Amount"
    assert nx.name("Grant Date") == "'Grant Date'"
    assert nx.name("it's") == "'it\\'s'"
    assert nx.name("select") == "'select'"
    assert nx.name("2nd") == "'2nd'"


def test_floats_and_unknown_values_are_refused() -> None:
    with pytest.raises(TypeError):
        nx.literal(0.1)
    with pytest.raises(TypeError):
        nx.literal(object())
    with pytest.raises(ValueError, match="NX"):
        nx.literal(Decimal("NaN"))
    with pytest.raises(ValueError, match="day"):
        nx.date(2026, 2, 30)


def test_conditions_must_be_built_with_the_builder() -> None:
    with pytest.raises(TypeError):
        nx.and_("Amount > 0")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        nx.select("Grants").where("1 = 1")  # type: ignore[arg-type]


def test_function_calls_take_only_function_names() -> None:
    assert str(nx.call("today")) == "today()"
    assert str(nx.call("text", 5)) == "text(5)"
    with pytest.raises(ValueError, match="function"):
        nx.call("delete r; x")


def test_a_date_from_a_python_date() -> None:
    assert str(nx.date(dt.date(2026, 12, 31))) == "date(2026, 12, 31)"


# ---- injection: no value or name can change the structure ------------------------------

PLACEHOLDER = "x"


def build(value: str, name: str = "Name") -> str:
    return str(
        nx.sum_(
            nx.select("Grants").where(nx.eq(nx.field("Lodge", name), value), nx.gt("Amount", 0)),
            "Amount",
        )
    )


@given(st.text())
def test_no_string_value_can_change_the_structure_of_an_expression(value: str) -> None:
    tokens = tokenize(build(value))
    assert shape(tokens) == shape(tokenize(build(PLACEHOLDER)))
    strings = [v for kind, v in tokens if kind == "str"]
    assert strings == [value]


@given(st.text(min_size=1))
def test_no_field_name_can_change_the_structure_of_an_expression(name: str) -> None:
    tokens = tokenize(build("v", name=name))
    assert shape(tokens) == shape(tokenize(build("v", name="'quoted'")))
    names = [v for kind, v in tokens if kind == "name"]
    assert name in names


@given(st.text(alphabet=st.characters(), max_size=30))
def test_string_literals_round_trip(value: str) -> None:
    ((kind, decoded),) = tokenize(str(nx.literal(value)))
    assert (kind, decoded) == ("str", value)
