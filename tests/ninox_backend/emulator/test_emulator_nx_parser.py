"""The NX tokenizer and parser on their own: text in, tokens and trees out."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from ninox_backend.emulator.nx import NxSyntaxError, parse
from ninox_backend.emulator.nx.lexer import tokenize
from ninox_backend.emulator.nx.nodes import (
    Assign,
    Binary,
    Block,
    Call,
    Create,
    Delete,
    Filter,
    For,
    If,
    Let,
    Literal,
    Name,
    OrderBy,
    Path,
    Select,
    This,
    Unary,
    With,
)


def kinds(source: str) -> list[tuple[str, str]]:
    return [(t.kind, t.value) for t in tokenize(source)][:-1]


def test_numbers_are_exact_decimals() -> None:
    (token, _) = tokenize("1250.10")
    assert token.number == Decimal("1250.10")


def test_strings_take_double_quotes_and_backslash_escapes() -> None:
    assert kinds(r'"say \"hi\"\n"') == [("str", 'say "hi"\n')]


def test_single_quotes_make_a_name_with_spaces() -> None:
    assert kinds("'Grant Date' >= x") == [("name", "Grant Date"), ("op", ">="), ("name", "x")]


def test_keywords_are_lower_case_and_other_words_are_names() -> None:
    assert kinds("select Order where") == [("kw", "select"), ("name", "Order"), ("kw", "where")]


def test_two_character_operators_are_one_token() -> None:
    ops = [v for _, v in kinds("a := b <= c >= d != e <> f")]
    assert ops == ["a", ":=", "b", "<=", "c", ">=", "d", "!=", "e", "<>", "f"]


def test_an_unterminated_string_names_its_position() -> None:
    with pytest.raises(NxSyntaxError, match=r"unterminated string \(line 1, column 5\)"):
        tokenize('1 + "abc')


def test_an_unknown_character_is_a_syntax_error() -> None:
    with pytest.raises(NxSyntaxError, match="unexpected character '#'"):
        tokenize("a # b")


def test_select_with_where() -> None:
    tree = parse("select Grants where Amount > 5")
    assert isinstance(tree, Select)
    assert tree.table == "Grants"
    assert isinstance(tree.where, Binary)
    assert tree.where.op == ">"


def test_brackets_filter_after_a_selection() -> None:
    tree = parse("(select Lodges)[Active]")
    assert isinstance(tree, Filter)
    assert isinstance(tree.obj, Select)
    assert tree.cond == Name(16, "Active")


def test_a_field_path_through_a_reference() -> None:
    tree = parse("Lodge.Number")
    assert tree == Path(5, Name(0, "Lodge"), "Number")


def test_a_path_on_a_selection() -> None:
    tree = parse("(select Grants).Amount")
    assert isinstance(tree, Path)
    assert isinstance(tree.obj, Select)


def test_and_binds_tighter_than_or() -> None:
    tree = parse("a or b and c")
    assert isinstance(tree, Binary)
    assert tree.op == "or"
    assert isinstance(tree.right, Binary)
    assert tree.right.op == "and"


def test_not_applies_to_a_comparison() -> None:
    tree = parse("not a = 1")
    assert isinstance(tree, Unary)
    assert tree.op == "not"
    assert isinstance(tree.operand, Binary)


def test_multiplication_binds_tighter_than_addition_and_unary_minus() -> None:
    tree = parse("-1 + 2 * 3")
    assert isinstance(tree, Binary)
    assert tree.op == "+"
    assert isinstance(tree.left, Unary)
    assert isinstance(tree.right, Binary)
    assert tree.right.op == "*"


def test_not_equal_has_two_spellings() -> None:
    left, right = parse("a <> 1"), parse("a != 1")
    assert isinstance(left, Binary)
    assert isinstance(right, Binary)
    assert left.op == right.op == "!="


def test_let_then_an_expression_is_a_block() -> None:
    tree = parse("let x := 1; x + 1")
    assert isinstance(tree, Block)
    assert isinstance(tree.body[0], Let)
    assert isinstance(tree.body[1], Binary)


def test_if_then_else_end() -> None:
    tree = parse("if a then 1 else 2 end")
    assert isinstance(tree, If)
    assert tree.then == Literal(10, Decimal(1))


def test_if_without_else() -> None:
    tree = parse("if a then 1 end")
    assert isinstance(tree, If)
    assert tree.otherwise is None


def test_for_in_do_end() -> None:
    tree = parse("for r in select Lodges do r.Number end")
    assert isinstance(tree, For)
    assert tree.var == "r"
    assert isinstance(tree.iterable, Select)


def test_for_from_to() -> None:
    tree = parse("for i from 0 to 3 do i end")
    assert isinstance(tree, For)
    assert tree.start is not None
    assert tree.stop is not None


def test_calls_take_arguments() -> None:
    tree = parse('join(list, ", ")')
    assert isinstance(tree, Call)
    assert tree.name == "join"
    assert len(tree.args) == 2


def test_create_field_block_and_delete() -> None:
    tree = parse("let r := (create Grants); r.(Amount := 500); delete r")
    assert isinstance(tree, Block)
    let, with_, delete = tree.body
    assert isinstance(let, Let)
    assert isinstance(let.value, Create)
    assert isinstance(with_, With)
    assert isinstance(with_.body, Assign)
    assert isinstance(delete, Delete)


def test_this_and_order_by() -> None:
    tree = parse("(select Grants where Lodge = this) order by Amount")
    assert isinstance(tree, OrderBy)
    assert isinstance(tree.obj, Select)
    assert isinstance(tree.obj.where, Binary)
    assert isinstance(tree.obj.where.right, This)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("switch x case 1: 2 end", "'switch' is not supported"),
        ("for r in x do as server 1 end", "'do as' blocks are not supported"),
        ("if a then 1", "expected 'end' closing 'if'"),
        ("(1 + 2", "expected ')'"),
        ("1 + ", "expected an expression"),
        ("a = b = c", "comparisons cannot be chained"),
        ("1 2", "unexpected text after the end"),
        ("", "empty program"),
        ("3 := 4", "only a variable or a field can be assigned"),
    ],
)
def test_unsupported_or_broken_syntax_names_what_and_where(source: str, message: str) -> None:
    with pytest.raises(NxSyntaxError, match=re.escape(message)) as info:
        parse(source)
    assert "line 1, column" in str(info.value)
