"""One validation for both doors of an application: the web form and the website's JSON API.

`validate_application` checks what can be checked without the database and reports every
problem at once, each naming the field and the rule. Whether the lodge exists, and the
budget, are decided later by the service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from grants.fiscal_year import long_date
from grants.money import CENT, format_money, parse_amount

FIELDS = (
    "lodge_number",
    "contact_name",
    "contact_email",
    "charity_name",
    "purpose",
    "amount_raised",
    "amount_requested",
    "event_date",
)

LABELS: dict[str, str] = {
    "lodge_number": "Lodge number",
    "contact_name": "Contact name",
    "contact_email": "Contact email",
    "charity_name": "Charity or cause",
    "purpose": "Purpose",
    "amount_raised": "Amount raised",
    "amount_requested": "Amount requested",
    "event_date": "Event date",
}

LODGE_NUMBER_MAX = 99999
NAME_MAX_LENGTH = 200
PURPOSE_MAX_LENGTH = 2000
EMAIL_MAX_LENGTH = 254
AMOUNT_MIN = Decimal("1.00")
AMOUNT_RAISED_MAX = Decimal("1000000.00")

_DIGITS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_EMAIL_FORBIDDEN = frozenset("\r\n,;<> ")
# Joiners shape words in Persian and Indic scripts; other format characters (bidi overrides,
# zero-width spaces, BOM) only hide or reorder text.
_ALLOWED_FORMAT = frozenset("\u200c\u200d")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class ApplicationInput:
    """An application that passed every check that needs no database.

    Text is NFC-normalised and stripped; amounts are `Decimal` with two places.
    """

    lodge_number: int
    contact_name: str
    contact_email: str
    charity_name: str
    purpose: str
    amount_raised: Decimal  # the lodge's share
    amount_requested: Decimal  # the match
    event_date: date


class IntakeErrors(Exception):
    """Every problem found in an application: ``errors`` maps a field to its messages.

    ``message`` is a one-line summary for the API's ``{"message", "errors"}`` reply.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        count = sum(len(messages) for messages in errors.values())
        self.message = (
            "The application has a problem; please correct it."
            if count == 1
            else f"The application has {count} problems; please correct them."
        )
        super().__init__(self.message)


def validate_application(
    data: Mapping[str, object],
    *,
    lenient: bool,
    cap: Decimal,
    match_ratio: Decimal,
    today: date,
) -> ApplicationInput:
    """Check an application and return it cleaned, or raise `IntakeErrors` with all problems.

    ``lenient=True`` is the web form: surrounding whitespace is forgiven, amounts may be
    written ``$1,250.00``, and unknown fields (CSRF token, honeypot) are ignored.
    ``lenient=False`` is the JSON API: values must be JSON strings (the lodge number may
    also be a JSON integer), amounts plain decimal strings, and unknown fields are errors.
    ``cap`` is the yearly cap on the match, ``match_ratio`` how much the foundation adds
    per dollar raised, and ``today`` anchors the event date's one-year window.
    """
    if not isinstance(data, Mapping):
        raise IntakeErrors(
            {"non_field_errors": ["The application must be an object with the eight fields."]}
        )
    checker = _Checker(lenient=lenient)
    lodge_number = checker.lodge_number(data)
    contact_name = checker.text(data, "contact_name", NAME_MAX_LENGTH)
    contact_email = checker.email(data)
    charity_name = checker.text(data, "charity_name", NAME_MAX_LENGTH)
    purpose = checker.text(data, "purpose", PURPOSE_MAX_LENGTH, multiline=True)
    amount_raised = checker.amount(data, "amount_raised", AMOUNT_RAISED_MAX, "the most we accept")
    amount_requested = checker.amount(data, "amount_requested", cap, "the yearly cap")
    # The ratio rule needs a valid amount raised; a match over the cap is still held to it.
    if (
        amount_raised is not None
        and "amount_raised" not in checker.errors
        and amount_requested is not None
    ):
        checker.match_limit(amount_raised, amount_requested, match_ratio)
    event_date = checker.event_date(data, today)
    if not lenient:
        known = set(FIELDS)
        for key in data:
            if key not in known:
                checker.add(str(key), f"{_shorten(str(key))!r} is not a known field.")
    if (
        checker.errors
        or lodge_number is None
        or contact_name is None
        or contact_email is None
        or charity_name is None
        or purpose is None
        or amount_raised is None
        or amount_requested is None
        or event_date is None
    ):
        raise IntakeErrors(checker.errors)
    return ApplicationInput(
        lodge_number=lodge_number,
        contact_name=contact_name,
        contact_email=contact_email,
        charity_name=charity_name,
        purpose=purpose,
        amount_raised=amount_raised,
        amount_requested=amount_requested,
        event_date=event_date,
    )


class _Checker:
    """Collects errors field by field; each method returns the clean value or None.

    `amount` returns a parsed amount even when it is out of range (the error is recorded),
    so the match rule can still be told.
    """

    def __init__(self, *, lenient: bool) -> None:
        self.lenient = lenient
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def _string(self, data: Mapping[str, object], field: str, expected: str) -> str | None:
        """The field's raw string, or None after recording why there is none."""
        label = LABELS[field]
        if field not in data:
            self.add(field, f"{label} is required.")
            return None
        value = data[field]
        if not isinstance(value, str):
            self.add(field, f"{label} must be {expected}, not {_json_kind(value)}.")
            return None
        if not value.strip():
            self.add(field, f"{label} is required.")
            return None
        return value

    def lodge_number(self, data: Mapping[str, object]) -> int | None:
        field, label = "lodge_number", LABELS["lodge_number"]
        if field in data and isinstance(data[field], int) and not isinstance(data[field], bool):
            number = data[field]
            assert isinstance(number, int)
        else:
            text = self._string(data, field, "a whole number like 123")
            if text is None:
                return None
            if self.lenient:
                text = text.strip()
            if not _DIGITS.fullmatch(text):
                self.add(
                    field, f"{label} must be a whole number like 123, written with digits 0-9 only."
                )
                return None
            significant = text.lstrip("0")
            # Never convert a huge digit string: it is out of range whatever it says.
            number = int(significant or "0") if len(significant) <= 5 else LODGE_NUMBER_MAX + 1
        if not 1 <= number <= LODGE_NUMBER_MAX:
            self.add(field, f"{label} must be between 1 and {LODGE_NUMBER_MAX}.")
            return None
        return number

    def text(
        self, data: Mapping[str, object], field: str, max_length: int, *, multiline: bool = False
    ) -> str | None:
        label = LABELS[field]
        raw = self._string(data, field, "text")
        if raw is None:
            return None
        if any(unicodedata.category(ch) == "Cs" for ch in raw):
            self.add(field, f"{label} contains broken characters (unpaired surrogates).")
            return None
        value = unicodedata.normalize("NFC", raw).strip()
        if multiline:
            # Browsers send textarea line breaks as CRLF; store one kind of line break.
            value = value.replace("\r\n", "\n")
        allowed = {"\n", "\t"} if multiline else set()
        if any(
            ch not in allowed and ch not in _ALLOWED_FORMAT and _is_forbidden(ch) for ch in value
        ):
            what = (
                "control characters or invisible formatting characters "
                "(line breaks and tabs are fine)"
                if multiline
                else "line breaks, control characters or invisible formatting characters"
            )
            self.add(field, f"{label} must not contain {what}.")
            return None
        if len(value) > max_length:
            self.add(
                field,
                f"{label} must be at most {max_length:,} characters long (it has {len(value):,}).",
            )
            return None
        return value

    def email(self, data: Mapping[str, object]) -> str | None:
        field, label = "contact_email", LABELS["contact_email"]
        raw = self._string(data, field, "text")
        if raw is None:
            return None
        value = raw.strip()
        if len(value) > EMAIL_MAX_LENGTH:
            self.add(field, f"{label} must be at most {EMAIL_MAX_LENGTH} characters long.")
            return None
        if any(ch in _EMAIL_FORBIDDEN or _is_forbidden(ch) or ch.isspace() for ch in value):
            self.add(
                field,
                f"{label} must be one address like name@example.org, without spaces, line breaks, "
                "commas, semicolons or angle brackets.",
            )
            return None
        try:
            validate_email(value)
        except ValidationError:
            self.add(field, f"{label} must be a valid email address like name@example.org.")
            return None
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"

    def amount(
        self, data: Mapping[str, object], field: str, maximum: Decimal, why_maximum: str
    ) -> Decimal | None:
        label = LABELS[field]
        expected = "an amount like $1,250.00" if self.lenient else 'a decimal string like "1250.00"'
        raw = self._string(data, field, expected)
        if raw is None:
            return None
        try:
            amount = parse_amount(raw, lenient=self.lenient, label=label)
        except ValueError as refusal:
            self.add(field, str(refusal))
            return None
        if amount < AMOUNT_MIN:
            self.add(field, f"{label} must be at least {format_money(AMOUNT_MIN)}.")
        if amount > maximum:
            self.add(field, f"{label} must be at most {format_money(maximum)}, {why_maximum}.")
        return amount

    def match_limit(self, raised: Decimal, requested: Decimal, ratio: Decimal) -> None:
        # Rounding down: the foundation never matches a fraction of a cent more than the ratio.
        limit = (raised * ratio).quantize(CENT, rounding=ROUND_DOWN)
        if requested > limit:
            rule = (
                "the amount raised (the foundation matches dollar for dollar)"
                if ratio == 1
                else f"{ratio.normalize():f} times the amount raised"
            )
            self.add(
                "amount_requested",
                f"{LABELS['amount_requested']} must be at most {format_money(limit)}, {rule}.",
            )

    def event_date(self, data: Mapping[str, object], today: date) -> date | None:
        field, label = "event_date", LABELS["event_date"]
        raw = self._string(data, field, "a date like 2026-05-01")
        if raw is None:
            return None
        text = raw.strip() if self.lenient else raw
        match = _ISO_DATE.fullmatch(text)
        if match is None:
            self.add(field, f"{label} must be a date written YYYY-MM-DD, like 2026-05-01.")
            return None
        try:
            when = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            self.add(field, f"{label} must be a real date; {text} does not exist.")
            return None
        earliest, latest = _years_from(today, -1), _years_from(today, 1)
        if not earliest <= when <= latest:
            self.add(
                field,
                f"{label} must be within a year of today: from {long_date(earliest)} "
                f"to {long_date(latest)}.",
            )
            return None
        return when


def _is_forbidden(ch: str) -> bool:
    return unicodedata.category(ch) in _FORBIDDEN_CATEGORIES


def _years_from(day: date, years: int) -> date:
    """The same calendar day ``years`` later (or earlier); Feb 29 becomes Feb 28."""
    year = min(max(day.year + years, date.min.year), date.max.year)
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
