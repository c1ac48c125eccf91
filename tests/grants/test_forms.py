"""The application form: one set of rules for the apply page and the website API."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grants.forms import (
    AMOUNT_MIN,
    AMOUNT_RAISED_MAX,
    FIELDS,
    LABELS,
    NAME_MAX_LENGTH,
    PURPOSE_MAX_LENGTH,
    ApplicationErrors,
    ApplicationInput,
    application_form,
)

CAP = Decimal("4000.00")
TODAY = date(2026, 5, 1)


def body(**overrides: object) -> dict[str, object]:
    """A valid API body, with ``overrides`` applied."""
    data: dict[str, object] = {
        "lodge_number": "123",
        "contact_name": "Jo Secretary",
        "contact_email": "jo@example.org",
        "charity_name": "Food bank",
        "purpose": "Winter appeal",
        "amount_raised": "1250.00",
        "amount_requested": "1000.00",
        "event_date": "2026-06-13",
    }
    data.update(overrides)
    return data


def validate(
    data: Any,
    *,
    lenient: bool = False,
    cap: Decimal = CAP,
    match_ratio: Decimal = Decimal("1"),
    today: date = TODAY,
) -> ApplicationInput:
    form = application_form(data, lenient=lenient, cap=cap, match_ratio=match_ratio, today=today)
    return form.application()


def errors_of(data: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(ApplicationErrors) as caught:
        validate(data, **kwargs)
    return caught.value.errors


def only_error(field: str, data: Any, **kwargs: Any) -> str:
    """The single message for ``field``, which must be the only field in error."""
    errors = errors_of(data, **kwargs)
    assert list(errors) == [field], errors
    assert len(errors[field]) == 1, errors
    return errors[field][0]


both_doors = pytest.mark.parametrize("lenient", [False, True], ids=["api", "form"])


# --- a whole application ---------------------------------------------------------------


@both_doors
def test_a_complete_application_comes_back_cleaned(lenient: bool) -> None:
    result = validate(body(), lenient=lenient)
    assert result == ApplicationInput(
        lodge_number=123,
        contact_name="Jo Secretary",
        contact_email="jo@example.org",
        charity_name="Food bank",
        purpose="Winter appeal",
        amount_raised=Decimal("1250.00"),
        amount_requested=Decimal("1000.00"),
        event_date=date(2026, 6, 13),
    )


def test_the_form_forgives_what_people_type() -> None:
    result = validate(
        body(
            lodge_number=" 123 ",
            contact_name="  Jo Secretary\n",
            contact_email=" jo@Example.ORG ",
            amount_raised=" $1,250 ",
            amount_requested="$1,000.00",
            event_date=" 2026-06-13 ",
        ),
        lenient=True,
    )
    assert result.lodge_number == 123
    assert result.contact_name == "Jo Secretary"
    assert result.contact_email == "jo@example.org"
    assert result.amount_raised == Decimal("1250.00")
    assert result.amount_requested == Decimal("1000.00")
    assert result.event_date == date(2026, 6, 13)


def test_every_error_is_reported_at_once() -> None:
    everything_wrong = {
        "lodge_number": "0",
        "contact_name": "",
        "contact_email": "not an address",
        "charity_name": "x" * 201,
        "purpose": None,
        "amount_raised": "1e3",
        "amount_requested": "-5",
        "event_date": "2026-02-30",
        "colour": "blue",
    }
    with pytest.raises(ApplicationErrors) as caught:
        validate(everything_wrong)
    assert list(caught.value.errors) == [*FIELDS, "colour"]
    assert caught.value.message == "The application has 9 problems; please correct them."
    assert str(caught.value) == caught.value.message


def test_one_error_is_summed_up_in_the_singular() -> None:
    with pytest.raises(ApplicationErrors, match="has a problem"):
        validate(body(purpose=""))


@pytest.mark.parametrize("field", FIELDS)
@both_doors
def test_every_field_is_required(field: str, lenient: bool) -> None:
    data = body()
    del data[field]
    assert only_error(field, data, lenient=lenient) == f"{LABELS[field]} is required."


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
@both_doors
def test_a_blank_value_counts_as_missing(field: str, blank: str, lenient: bool) -> None:
    assert only_error(field, body(**{field: blank}), lenient=lenient) == (
        f"{LABELS[field]} is required."
    )


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "null"),
        (True, "true or false"),
        (False, "true or false"),
        (12.5, "a number"),
        ([], "a list"),
        (["123"], "a list"),
        ({}, "an object"),
        ({"value": "123"}, "an object"),
    ],
)
def test_the_api_names_a_value_that_is_not_a_string(field: str, value: object, kind: str) -> None:
    message = only_error(field, body(**{field: value}))
    assert message.startswith(f"{LABELS[field]} must be ")
    assert message.endswith(f", not {kind}.")


@pytest.mark.parametrize("field", [f for f in FIELDS if f != "lodge_number"])
def test_only_the_lodge_number_may_be_a_json_number(field: str) -> None:
    assert only_error(field, body(**{field: 1000})).endswith(", not a number.")


def test_an_amount_sent_as_a_json_number_is_told_to_be_quoted() -> None:
    message = only_error("amount_raised", body(amount_raised=1250))
    assert message == 'Amount raised must be a decimal string like "1250.00", not a number.'


def test_the_api_names_each_unknown_field() -> None:
    errors = errors_of(body(colour="blue", reference="MG-2026-00001"))
    assert errors == {
        "colour": ["'colour' is not a known field."],
        "reference": ["'reference' is not a known field."],
    }


def test_a_key_named_like_djangos_non_field_errors_is_an_unknown_field_too() -> None:
    assert errors_of(body(__all__="x")) == {"__all__": ["'__all__' is not a known field."]}


def test_the_form_ignores_fields_it_does_not_know() -> None:
    result = validate(body(csrfmiddlewaretoken="abc", website=""), lenient=True)
    assert result.lodge_number == 123


@pytest.mark.parametrize("data", [[], "lodge_number=1", None, 42])
def test_something_that_is_not_an_object_is_refused_as_a_whole(data: object) -> None:
    assert errors_of(data) == {
        "non_field_errors": ["The application must be an object with the eight fields."]
    }


# --- lodge number ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "number"),
    [("1", 1), ("123", 123), ("99999", 99999), ("007", 7), (1, 1), (123, 123), (99999, 99999)],
)
@both_doors
def test_a_lodge_number_is_a_whole_number_from_1_to_99999(
    value: object, number: int, lenient: bool
) -> None:
    assert validate(body(lodge_number=value), lenient=lenient).lodge_number == number


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("0", "must be between 1 and 99999"),
        ("100000", "must be between 1 and 99999"),
        ("0000000", "must be between 1 and 99999"),
        pytest.param("9" * 5000, "must be between 1 and 99999", id="5000-nines"),
        (0, "must be between 1 and 99999"),
        (-5, "must be between 1 and 99999"),
        (100000, "must be between 1 and 99999"),
        pytest.param(10**5000, "must be between 1 and 99999", id="a-5000-digit-int"),
        ("-1", "whole number like 123, written with digits 0-9 only"),
        ("+1", "whole number like 123, written with digits 0-9 only"),
        ("1.0", "whole number like 123, written with digits 0-9 only"),
        ("12a", "whole number like 123, written with digits 0-9 only"),
        ("#123", "whole number like 123, written with digits 0-9 only"),
        ("1e3", "whole number like 123, written with digits 0-9 only"),
        ("1_000", "whole number like 123, written with digits 0-9 only"),
        ("0x10", "whole number like 123, written with digits 0-9 only"),
        ("1 23", "whole number like 123, written with digits 0-9 only"),
        ("\uff11\uff12\uff13", "whole number like 123, written with digits 0-9 only"),
        ("١٢٣", "whole number like 123, written with digits 0-9 only"),
        ("123\x00", "whole number like 123, written with digits 0-9 only"),
    ],
)
@both_doors
def test_a_lodge_number_outside_the_rule_is_refused(
    value: object, rule: str, lenient: bool
) -> None:
    message = only_error("lodge_number", body(lodge_number=value), lenient=lenient)
    assert message.startswith("Lodge number ")
    assert rule in message


@pytest.mark.parametrize("value", [" 123", "123 ", "123\n"])
def test_the_api_refuses_whitespace_around_a_lodge_number_that_the_form_forgives(
    value: str,
) -> None:
    assert "digits 0-9 only" in only_error("lodge_number", body(lodge_number=value))
    assert validate(body(lodge_number=value), lenient=True).lodge_number == 123


# --- names and purpose -------------------------------------------------------------------

TEXT_FIELDS = [("contact_name", NAME_MAX_LENGTH), ("charity_name", NAME_MAX_LENGTH)]


@pytest.mark.parametrize(("field", "limit"), [*TEXT_FIELDS, ("purpose", PURPOSE_MAX_LENGTH)])
@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("  Ann Smith  ", "Ann Smith"),
        ("Zoë", "Zoë"),
        ("Zoe\u0308", "Zoë"),  # decomposed: normalised to NFC
        ("Loge Nr. 12 \u201cZur Eintracht\u201d", "Loge Nr. 12 \u201cZur Eintracht\u201d"),
        ("Ali\u200cReza", "Ali\u200cReza"),  # zero-width non-joiner shapes Persian words
        (
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
        ("日本語の慈善団体", "日本語の慈善団体"),
    ],
)
@both_doors
def test_text_is_normalised_and_stripped(
    field: str, limit: int, value: str, cleaned: str, lenient: bool
) -> None:
    result = validate(body(**{field: value}), lenient=lenient)
    assert getattr(result, field) == cleaned


@pytest.mark.parametrize(("field", "limit"), [*TEXT_FIELDS, ("purpose", PURPOSE_MAX_LENGTH)])
def test_text_may_be_exactly_as_long_as_its_limit(field: str, limit: int) -> None:
    assert getattr(validate(body(**{field: "é" * limit})), field) == "é" * limit
    # Length counts characters after NFC, so a decomposed accent counts once.
    assert len(getattr(validate(body(**{field: "e\u0301" * limit})), field)) == limit


@pytest.mark.parametrize(("field", "limit"), [*TEXT_FIELDS, ("purpose", PURPOSE_MAX_LENGTH)])
@pytest.mark.parametrize("extra", [1, 100_000])
def test_text_longer_than_its_limit_is_refused(field: str, limit: int, extra: int) -> None:
    message = only_error(field, body(**{field: "a" * (limit + extra)}))
    assert message == (
        f"{LABELS[field]} must be at most {limit:,} characters long (it has {limit + extra:,})."
    )


@pytest.mark.parametrize(("field", "_limit"), TEXT_FIELDS)
@pytest.mark.parametrize(
    "value",
    [
        "Ann\nSmith",
        "Ann\r\nSmith",
        "Ann\tSmith",
        "Ann\x00",
        "Ann\x1bSmith",
        "Ann\x7f",
        "Ann\u0085Smith",
        "Ann\u202eSmith",  # right-to-left override
        "Ann\u200bSmith",  # zero-width space
        "\ufeffAnn",  # byte-order mark
        "Ann\u2028Smith",  # line separator
        "Ann\u2029Smith",  # paragraph separator
    ],
)
@both_doors
def test_a_name_may_not_contain_line_breaks_or_control_characters(
    field: str, _limit: int, value: str, lenient: bool
) -> None:
    message = only_error(field, body(**{field: value}), lenient=lenient)
    assert message == (
        f"{LABELS[field]} must not contain line breaks, control characters or invisible "
        "formatting characters."
    )


@pytest.mark.parametrize(("field", "_limit"), [*TEXT_FIELDS, ("purpose", PURPOSE_MAX_LENGTH)])
@pytest.mark.parametrize("value", ["Ann\ud800", "\udfffAnn", "a\udc80b"])
def test_text_with_a_lone_surrogate_is_refused(field: str, _limit: int, value: str) -> None:
    assert "unpaired surrogates" in only_error(field, body(**{field: value}))


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("Line one\nLine two", "Line one\nLine two"),
        ("Line one\r\nLine two", "Line one\nLine two"),
        ("Item\tCost", "Item\tCost"),
        ("\n\nTrimmed\n\n", "Trimmed"),
    ],
)
@both_doors
def test_a_purpose_may_have_line_breaks_and_tabs(value: str, cleaned: str, lenient: bool) -> None:
    assert validate(body(purpose=value), lenient=lenient).purpose == cleaned


@pytest.mark.parametrize("value", ["Bell\x07", "Lone\rreturn", "Esc\x1b[31m", "a\u202eb", "a\x00b"])
def test_a_purpose_may_not_contain_other_control_characters(value: str) -> None:
    assert only_error("purpose", body(purpose=value)) == (
        "Purpose must not contain control characters or invisible formatting characters "
        "(line breaks and tabs are fine)."
    )


# --- contact email -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("jo@example.org", "jo@example.org"),
        ("Jo.Secretary+grants@Example.ORG", "Jo.Secretary+grants@example.org"),
        ("secretary@lodge-123.example.co.uk", "secretary@lodge-123.example.co.uk"),
        (" jo@example.org ", "jo@example.org"),
    ],
)
@both_doors
def test_an_email_address_is_accepted_with_its_domain_in_lower_case(
    value: str, cleaned: str, lenient: bool
) -> None:
    assert validate(body(contact_email=value), lenient=lenient).contact_email == cleaned


@pytest.mark.parametrize(
    "value",
    [
        "jo@example.org\r\nBcc: victim@example.com",
        "jo@example.org\nBcc: victim@example.com",
        "jo@example.org,victim@example.com",
        "jo@example.org;victim@example.com",
        "Jo <jo@example.org>",
        "<jo@example.org>",
        "jo @example.org",
        "jo@exa mple.org",
        "jo@example.org\x00",
        "jo\u200b@example.org",
    ],
)
@both_doors
def test_an_email_with_header_injection_or_a_list_is_refused(value: str, lenient: bool) -> None:
    assert only_error("contact_email", body(contact_email=value), lenient=lenient) == (
        "Contact email must be one address like name@example.org, without spaces, line breaks, "
        "commas, semicolons or angle brackets."
    )


@pytest.mark.parametrize(
    "value",
    ["jo", "jo@", "@example.org", "jo@@example.org", "jo@example", "jo@.org", "jo..x@example.org"],
)
@both_doors
def test_an_email_that_is_not_an_address_is_refused(value: str, lenient: bool) -> None:
    assert only_error("contact_email", body(contact_email=value), lenient=lenient) == (
        "Contact email must be a valid email address like name@example.org."
    )


def test_an_email_longer_than_254_characters_is_refused() -> None:
    value = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "c" * 8 + ".org"
    assert len(value) > 254
    assert only_error("contact_email", body(contact_email=value)) == (
        "Contact email must be at most 254 characters long."
    )


# --- amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "requested"),
    [
        ("1.00", "1.00"),
        ("1", "1"),
        ("4000.00", "4000.00"),
        ("1000000.00", "4000.00"),
        ("1250.5", "1250.50"),
        ("0001250.00", None),
    ],
)
def test_amounts_within_their_bounds_are_accepted(raised: str, requested: str | None) -> None:
    if requested is None:
        assert "plain decimal string" in only_error("amount_raised", body(amount_raised=raised))
        return
    result = validate(body(amount_raised=raised, amount_requested=requested))
    assert result.amount_raised == Decimal(raised)
    assert result.amount_requested == Decimal(requested)
    assert result.amount_raised.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.99", "Amount raised must be at least $1.00."),
        ("0", "Amount raised must be at least $1.00."),
        ("1000000.01", "Amount raised must be at most $1,000,000.00, the most we accept."),
        ("9999999999", "Amount raised must be at most $1,000,000.00, the most we accept."),
        ("-0", "Amount raised must not be negative."),
        ("-5.00", "Amount raised must not be negative."),
        ("12.345", "Amount raised must have at most two decimal places"),
        ("١٢٣", "Amount raised must be written with the digits 0-9 only"),
        ("\uff11\uff12\uff13", "Amount raised must be written with the digits 0-9 only"),
        ("1e3", "Amount raised must be a plain decimal string"),
        ("NaN", "Amount raised must be a plain decimal string"),
        ("Infinity", "Amount raised must be a plain decimal string"),
        ("0x10", "Amount raised must be a plain decimal string"),
        ("1_000", "Amount raised must be a plain decimal string"),
        ("$1,250.00", "Amount raised must be a plain decimal string"),
        ("1250.00 ", "Amount raised must be a plain decimal string"),
    ],
)
def test_the_api_refuses_an_amount_raised_outside_the_rule(value: str, message: str) -> None:
    # A requested amount of $1.00 stays within any ratio, so only amount_raised is in error.
    data = body(amount_raised=value, amount_requested="1.00")
    assert only_error("amount_raised", data).startswith(message)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1,25.00", "Amount raised must be a dollar amount like $1,250.00 or 1250.00"),
        ("12,50", "Amount raised must be a dollar amount like $1,250.00 or 1250.00"),
        ("1,2500", "Amount raised must be a dollar amount like $1,250.00 or 1250.00"),
        ("$-5", "Amount raised must not be negative."),
        ("0.50", "Amount raised must be at least $1.00."),
        ("$1,000,000.01", "Amount raised must be at most $1,000,000.00, the most we accept."),
    ],
)
def test_the_form_refuses_misplaced_commas_and_out_of_range_amounts(
    value: str, message: str
) -> None:
    data = body(amount_raised=value, amount_requested="1.00")
    assert only_error("amount_raised", data, lenient=True).startswith(message)


def test_the_match_may_not_exceed_the_yearly_cap() -> None:
    data = body(amount_raised="5000.00", amount_requested="4000.01")
    assert only_error("amount_requested", data) == (
        "Amount requested must be at most $4,000.00, the yearly cap."
    )
    assert validate(data, cap=Decimal("4000.01")).amount_requested == Decimal("4000.01")


def test_the_match_must_be_at_least_one_dollar() -> None:
    assert only_error("amount_requested", body(amount_requested="0.99")) == (
        "Amount requested must be at least $1.00."
    )


def test_the_match_may_not_exceed_the_amount_raised_at_one_to_one() -> None:
    data = body(amount_raised="500.00", amount_requested="500.01")
    assert only_error("amount_requested", data) == (
        "Amount requested must be at most $500.00, the amount raised "
        "(the foundation matches dollar for dollar)."
    )
    assert validate(body(amount_raised="500.00", amount_requested="500.00"))


@pytest.mark.parametrize(
    ("ratio", "raised", "limit"),
    [
        (Decimal("0.5"), "333.33", "166.66"),  # 166.665 is rounded down, never up
        (Decimal("2"), "1250.00", "2500.00"),
        (Decimal("0.333"), "100.00", "33.30"),
        (Decimal("1.5"), "10.01", "15.01"),  # 15.015 rounded down
    ],
)
def test_the_match_limit_is_raised_times_ratio_rounded_down_to_the_cent(
    ratio: Decimal, raised: str, limit: str
) -> None:
    at_limit = body(amount_raised=raised, amount_requested=limit)
    assert validate(at_limit, match_ratio=ratio).amount_requested == Decimal(limit)
    over = body(amount_raised=raised, amount_requested=str(Decimal(limit) + Decimal("0.01")))
    message = only_error("amount_requested", over, match_ratio=ratio)
    assert message.startswith(f"Amount requested must be at most ${Decimal(limit):,.2f}, ")
    assert f"{ratio.normalize():f} times the amount raised" in message


def test_a_match_over_both_the_cap_and_the_ratio_is_told_both() -> None:
    errors = errors_of(body(amount_raised="3000.00", amount_requested="5000.00"))
    assert errors == {
        "amount_requested": [
            "Amount requested must be at most $4,000.00, the yearly cap.",
            "Amount requested must be at most $3,000.00, the amount raised "
            "(the foundation matches dollar for dollar).",
        ]
    }


def test_the_ratio_rule_is_skipped_when_the_amount_raised_is_itself_invalid() -> None:
    errors = errors_of(body(amount_raised="lots", amount_requested="1000.00"))
    assert list(errors) == ["amount_raised"]


# --- event date ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "value"),
    [
        (date(2026, 5, 1), "2026-05-01"),
        (date(2026, 5, 1), "2025-05-01"),
        (date(2026, 5, 1), "2027-05-01"),
        (date(2028, 2, 29), "2027-02-28"),
        (date(2028, 2, 29), "2029-02-28"),
        (date(2027, 2, 28), "2028-02-28"),
    ],
)
@both_doors
def test_an_event_date_within_a_year_of_today_is_accepted(
    today: date, value: str, lenient: bool
) -> None:
    result = validate(body(event_date=value), today=today, lenient=lenient)
    assert result.event_date == date.fromisoformat(value)


@pytest.mark.parametrize(
    ("today", "value", "window"),
    [
        (date(2026, 5, 1), "2025-04-30", "from May 1, 2025 to May 1, 2027"),
        (date(2026, 5, 1), "2027-05-02", "from May 1, 2025 to May 1, 2027"),
        (date(2028, 2, 29), "2027-02-27", "from February 28, 2027 to February 28, 2029"),
        (date(2028, 2, 29), "2029-03-01", "from February 28, 2027 to February 28, 2029"),
        (date(2026, 5, 1), "1999-01-01", "from May 1, 2025 to May 1, 2027"),
    ],
)
def test_an_event_date_more_than_a_year_away_is_refused(
    today: date, value: str, window: str
) -> None:
    assert only_error("event_date", body(event_date=value), today=today) == (
        f"Event date must be within a year of today: {window}."
    )


@pytest.mark.parametrize(
    "value", ["2026-02-30", "2026-13-01", "2026-00-10", "2027-02-29", "0000-01-01"]
)
def test_an_event_date_that_does_not_exist_is_refused(value: str) -> None:
    assert only_error("event_date", body(event_date=value)) == (
        f"Event date must be a real date; {value} does not exist."
    )


@pytest.mark.parametrize(
    "value",
    [
        "2026-5-1",
        "20260501",
        "2026/05/01",
        "05/01/2026",
        "2026-05-01T00:00",
        "2026-05-01 ",
        "2026-W18-5",
        "+2026-05-01",
        "\uff12\uff10\uff12\uff16-05-01",
        "\u0662\u0660\u0662\u0666-\u0660\u0665-\u0660\u0661",  # Arabic-Indic digits
        "May 1, 2026",
    ],
)
def test_an_event_date_not_written_yyyy_mm_dd_is_refused(value: str) -> None:
    assert only_error("event_date", body(event_date=value)) == (
        "Event date must be a date written YYYY-MM-DD, like 2026-05-01."
    )


# --- anything at all: ApplicationErrors or a valid application, nothing else ----------------------

HOSTILE_TEXT = [
    "",
    " ",
    "\u00a0",
    "\u3000",
    "\t\n\r",
    "1e3",
    "1E+3",
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "-0",
    "-0.00",
    "+1",
    "0x10",
    "0b101",
    "1_000",
    "\uff11\uff12\uff13",
    "١٢٣",
    "۱۲۳",
    "१२३",
    "1²",
    "½",
    "1.005",
    "1.",
    ".5",
    "$1,250.00",
    "1,25.00",
    "12,50",
    " 1250 ",
    "1250\n",
    "2026-02-29",
    "2028-02-29",
    "2026-05-01",
    "2026-05-01T00:00:00Z",
    "jo@example.org",
    "jo@example.org\r\nBcc: x@example.com",
    "a@b.org, c@d.org",
    "<script>alert(1)</script>",
    "'; DROP TABLE grants_application; --",
    "\x00",
    "\ud800",
    "a\udfffb",
    "\u202e",
    "\ufeff",
    "\u200b",
    "e\u0301",
    "\U0001f600",
    "99999",
    "100000",
    "0",
    "00123",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
huge_text = st.builds(
    lambda piece, count: piece * count,
    st.sampled_from(["9", "a", "é", "e\u0301", " ", "\n", "1,000", "\u202e", "\ud800"]),
    st.integers(min_value=0, max_value=100_000),
)
plausible_amounts = st.decimals(
    min_value=Decimal("-10"), max_value=Decimal("2000000"), places=3, allow_nan=False
).map(str)
plausible_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)).map(
    date.isoformat
)
any_value = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    json_values,
    huge_text,
    st.text(),
    plausible_amounts,
    plausible_dates,
    st.integers(-10, 200_000),
    st.from_regex(r"[0-9]{0,7}", fullmatch=True),
    st.emails(),
)

arbitrary_bodies = st.dictionaries(
    st.sampled_from([*FIELDS, "extra", "__proto__", ""]), any_value, max_size=10
)
# A valid body with a few fields replaced, so that accepted applications are common too.
mutated_bodies = st.builds(
    lambda replacements: body(**replacements),
    st.dictionaries(st.sampled_from(FIELDS), any_value, max_size=3),
)


def _clean_text(value: str, limit: int, *, multiline: bool) -> bool:
    allowed = {"\n", "\t"} if multiline else set()
    return (
        0 < len(value) <= limit
        and value == value.strip()
        and value == unicodedata.normalize("NFC", value)
        and all(
            ch in allowed
            or ch in "\u200c\u200d"
            or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp"}
            for ch in value
        )
    )


def _outcome(
    data: object, *, lenient: bool, cap: Decimal, ratio: Decimal, today: date
) -> ApplicationInput | ApplicationErrors:
    try:
        return validate(data, lenient=lenient, cap=cap, match_ratio=ratio, today=today)
    except ApplicationErrors as refused:
        return refused


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(arbitrary_bodies, mutated_bodies),
    st.booleans(),
    st.sampled_from([Decimal("4000.00"), Decimal("1.00"), Decimal("250000.00")]),
    st.sampled_from([Decimal("1"), Decimal("0.5"), Decimal("2"), Decimal("0.333")]),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
)
def test_any_input_gives_a_valid_application_or_intake_errors(
    data: dict[str, object], lenient: bool, cap: Decimal, ratio: Decimal, today: date
) -> None:
    outcome = _outcome(data, lenient=lenient, cap=cap, ratio=ratio, today=today)
    if isinstance(outcome, ApplicationErrors):
        assert outcome.errors
        for field, messages in outcome.errors.items():
            assert messages
            assert all(isinstance(message, str) and message for message in messages)
            if field in LABELS:
                assert all(LABELS[field] in message for message in messages)
        return

    result = outcome
    assert 1 <= result.lodge_number <= 99999
    assert _clean_text(result.contact_name, NAME_MAX_LENGTH, multiline=False)
    assert _clean_text(result.charity_name, NAME_MAX_LENGTH, multiline=False)
    assert _clean_text(result.purpose, PURPOSE_MAX_LENGTH, multiline=True)
    assert len(result.contact_email) <= 254
    assert result.contact_email.count("@") == 1
    assert not set(result.contact_email) & set("\r\n,;<> ")
    for amount in (result.amount_raised, result.amount_requested):
        assert amount.is_finite()
        assert amount.as_tuple().exponent == -2
        assert amount >= AMOUNT_MIN
    assert result.amount_raised <= AMOUNT_RAISED_MAX
    assert result.amount_requested <= cap
    assert result.amount_requested <= result.amount_raised * ratio
    assert abs((result.event_date - today).days) <= 366
    if not lenient:
        assert set(data) <= set(FIELDS)
