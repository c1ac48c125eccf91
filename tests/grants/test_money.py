"""Money: strict and lenient parsing, cents, and the `$1,250.00` display."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.money import CENT, format_money, from_cents, parse_amount, to_cents

ACCEPTED_BY_BOTH = [
    ("0", "0.00"),
    ("1", "1.00"),
    ("1250", "1250.00"),
    ("1250.5", "1250.50"),
    ("1250.00", "1250.00"),
    ("0.01", "0.01"),
    ("999999999999.99", "999999999999.99"),
]

REFUSED_BY_BOTH = [
    "",
    "-5",
    "-0",
    "-0.00",
    "+5",
    "1e3",
    "1E3",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "0x10",
    "1_000",
    "1.005",
    "1.",
    ".5",
    "007",
    "00.50",
    "1 000",
    "1.2.3",
    "\uff11\uff12\uff13",  # fullwidth 123
    "١٢٣",  # Arabic-Indic
    "۱۲۳",  # Extended Arabic-Indic (Persian)
    "१२३",  # Devanagari
    "1²",  # superscript
    "12,50",
    "1,25.00",
    "1,2500",
    ",125",
    "$",
    "$$5",
    "5$",
    "USD 5",
    "5 dollars",
    "1\x00",
    "9999999999999",
]

ACCEPTED_ONLY_BY_THE_FORM = [
    (" 1250.00 ", "1250.00"),
    ("\t1250\n", "1250.00"),
    ("$1250", "1250.00"),
    ("$1,250.00", "1250.00"),
    ("1,250", "1250.00"),
    ("$1,000,000.00", "1000000.00"),
    ("12,345,678.9", "12345678.90"),
    ("  $0.50", "0.50"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED_BY_BOTH)
@pytest.mark.parametrize("lenient", [False, True])
def test_both_doors_accept_a_plain_decimal_string(text: str, expected: str, lenient: bool) -> None:
    amount = parse_amount(text, lenient=lenient)
    assert amount == Decimal(expected)
    assert str(amount) == expected


@pytest.mark.parametrize("text", REFUSED_BY_BOTH)
@pytest.mark.parametrize("lenient", [False, True])
def test_both_doors_refuse_anything_that_is_not_a_plain_amount(text: str, lenient: bool) -> None:
    with pytest.raises(ValueError, match="Amount"):
        parse_amount(text, lenient=lenient)


@pytest.mark.parametrize(("text", "expected"), ACCEPTED_ONLY_BY_THE_FORM)
def test_the_form_accepts_a_dollar_sign_commas_and_surrounding_whitespace(
    text: str, expected: str
) -> None:
    assert str(parse_amount(text, lenient=True)) == expected


@pytest.mark.parametrize(("text", "_expected"), ACCEPTED_ONLY_BY_THE_FORM)
def test_the_api_refuses_a_dollar_sign_commas_and_whitespace(text: str, _expected: str) -> None:
    with pytest.raises(ValueError, match="plain decimal string"):
        parse_amount(text, lenient=False)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("1.005", "at most two decimal places"),
        ("-5", "must not be negative"),
        ("-0", "must not be negative"),
        ("١٢٣", "digits 0-9 only"),
        ("\uff11\uff12\uff13", "digits 0-9 only"),
        ("1²", "digits 0-9 only"),
        ("9999999999999", "far too large"),
        ("", "is required"),
    ],
)
def test_a_refusal_names_the_rule_that_was_broken(text: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        parse_amount(text, lenient=False)


def test_a_refusal_starts_with_the_label_it_was_given() -> None:
    with pytest.raises(ValueError, match=r"^Amount raised must"):
        parse_amount("abc", lenient=True, label="Amount raised")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "$0.00"),
        ("5", "$5.00"),
        ("1250", "$1,250.00"),
        ("1250.5", "$1,250.50"),
        ("1000000", "$1,000,000.00"),
        ("-5", "-$5.00"),
        ("-1250.75", "-$1,250.75"),
        ("-0.00", "$0.00"),
        ("0.005", "$0.01"),
    ],
)
def test_format_money_shows_dollars_with_commas_and_two_places(amount: str, shown: str) -> None:
    assert format_money(Decimal(amount)) == shown


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_format_money_refuses_what_is_not_an_amount(amount: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        format_money(Decimal(amount))


def test_cents_convert_both_ways() -> None:
    assert to_cents(Decimal("1250.00")) == 125000
    assert to_cents(Decimal("0.07")) == 7
    assert to_cents(Decimal("-5")) == -500
    assert from_cents(125000) == Decimal("1250.00")
    assert str(from_cents(7)) == "0.07"
    assert str(from_cents(-500)) == "-5.00"
    assert Decimal("0.01") == CENT


@pytest.mark.parametrize("amount", ["0.001", "1.005", "NaN", "Infinity"])
def test_to_cents_refuses_fractions_of_a_cent_and_non_numbers(amount: str) -> None:
    with pytest.raises(ValueError, match=r"cent|not an amount"):
        to_cents(Decimal(amount))


@given(st.integers(min_value=0, max_value=10**14 - 1))
def test_any_amount_survives_display_and_both_parsers(cents: int) -> None:
    amount = from_cents(cents)
    assert to_cents(amount) == cents
    assert parse_amount(str(amount), lenient=False) == amount
    assert parse_amount(format_money(amount), lenient=True) == amount
    assert amount.as_tuple().exponent == -2


def _parse_or_refusal(text: str, *, lenient: bool) -> Decimal | str:
    try:
        return parse_amount(text, lenient=lenient)
    except ValueError as refusal:
        return str(refusal)


@given(st.text(max_size=30))
def test_parsing_arbitrary_text_gives_two_places_or_a_value_error(text: str) -> None:
    for lenient in (False, True):
        outcome = _parse_or_refusal(text, lenient=lenient)
        if isinstance(outcome, str):
            assert outcome.startswith("Amount")
        else:
            assert outcome.is_finite()
            assert outcome >= 0
            assert outcome.as_tuple().exponent == -2
            assert not outcome.is_signed()
