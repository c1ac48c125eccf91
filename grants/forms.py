"""One form for both doors of an application: the web form and the website's JSON API.

`ApplicationForm` is the web form (lenient: surrounding whitespace is forgiven, amounts may
be written ``$1,250.00``, unknown fields such as the CSRF token are ignored);
`ApplicationJsonForm` is the API (strict: amounts are plain decimal strings and unknown
fields are errors). Each field is required and must arrive as a string (the lodge number may
also be a JSON integer); its ``clean_<field>`` method holds the rule. Every problem is
reported at once, each naming the field and the rule. Whether the lodge exists, and the
budget, are decided later by the service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from grants.fiscal_year import long_date
from grants.money import CENT, format_money, parse_amount
from grants.rules import rules_in_force
from portal.lib.errors import PortalError

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
NOT_AN_OBJECT = "The application must be an object with the eight fields."
# What the page and the API say above the field errors of a refused application.
NOTHING_SAVED = "The application has errors; nothing was saved."


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


class ApplicationErrors(PortalError):
    """Every problem found in an application: ``errors`` maps a field to its messages.

    ``message`` sums them up in one line.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        count = sum(len(messages) for messages in errors.values())
        super().__init__(
            "The application has a problem; please correct it."
            if count == 1
            else f"The application has {count} problems; please correct them.",
            errors,
        )


# --- fields: required, and a string as sent ----------------------------------------------


class _Missing:
    """What a widget reads for a field the body does not have (``None`` is a JSON null)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


class _AsSent:
    """A widget mixin that reads the value as sent, telling a missing field from a null."""

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> Any:
        return data.get(name, MISSING)


class _TextInput(_AsSent, forms.TextInput):
    pass


class _EmailInput(_AsSent, forms.EmailInput):
    pass


class _Textarea(_AsSent, forms.Textarea):
    pass


class _DateInput(_AsSent, forms.DateInput):
    pass


class SentField(forms.Field):
    """A required field whose value must be a string; its form's ``clean_<field>`` judges it.

    A missing or blank value is "required"; anything else that is not a string (a JSON
    null, number, list or object) is refused naming what it must be (``expected``).
    """

    widget = _TextInput

    def __init__(self, *, label: str, expected: str = "text", **kwargs: Any) -> None:
        super().__init__(label=label, **kwargs)
        self.expected = expected
        self.error_messages["required"] = f"{label} is required."

    def clean(self, value: Any) -> Any:
        if value is MISSING or (isinstance(value, str) and not value.strip()):
            raise ValidationError(self.error_messages["required"], code="required")
        if not isinstance(value, str):
            raise ValidationError(
                f"{self.label} must be {self.expected}, not {_json_kind(value)}.", code="invalid"
            )
        return value

    def bound_data(self, data: Any, initial: Any) -> Any:
        return None if data is MISSING else data


class LodgeNumberField(SentField):
    """Also takes a JSON integer (not ``true`` or ``false``)."""

    def clean(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return super().clean(value)


class UnknownField(SentField):
    """A key the API does not know: always an error naming it."""

    def clean(self, value: Any) -> Any:
        raise ValidationError(
            f"{_shorten(str(self.label))!r} is not a known field.", code="unknown"
        )


def _amount_field(label: str, expected: str, help_text: str) -> SentField:
    return SentField(
        label=label,
        expected=expected,
        help_text=help_text,
        widget=_TextInput(attrs={"inputmode": "decimal", "maxlength": "20"}),
    )


# --- the form ---------------------------------------------------------------------------


class ApplicationForm(forms.Form):
    """The web form's rules, which the API shares (see `ApplicationJsonForm`).

    ``cap`` is the yearly cap on the match, ``match_ratio`` how much the foundation adds per
    dollar raised, and ``today`` anchors the event date's one-year window; a bound form
    without them uses the rules in force and today's date.
    """

    lenient = True
    use_required_attribute = True

    lodge_number = LodgeNumberField(
        label=LABELS["lodge_number"],
        expected="a whole number like 123",
        help_text="Your lodge's number, for example 123.",
        widget=_TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "10"}),
    )
    contact_name = SentField(
        label=LABELS["contact_name"],
        widget=_TextInput(attrs={"maxlength": str(NAME_MAX_LENGTH)}),
    )
    contact_email = SentField(
        label=LABELS["contact_email"],
        widget=_EmailInput(attrs={"autocomplete": "email", "maxlength": str(EMAIL_MAX_LENGTH)}),
    )
    charity_name = SentField(
        label=LABELS["charity_name"],
        widget=_TextInput(attrs={"maxlength": str(NAME_MAX_LENGTH)}),
    )
    purpose = SentField(
        label=LABELS["purpose"],
        widget=_Textarea(attrs={"rows": 4, "maxlength": str(PURPOSE_MAX_LENGTH)}),
    )
    amount_raised = _amount_field(
        LABELS["amount_raised"],
        "an amount like $1,250.00",
        "What your lodge raised and will pay in, for example 1,250.00.",
    )
    amount_requested = _amount_field(
        LABELS["amount_requested"],
        "an amount like $1,250.00",
        "The match you ask the foundation for: at most the amount raised.",
    )
    event_date = SentField(
        label=LABELS["event_date"],
        expected="a date like 2026-05-01",
        widget=_DateInput(attrs={"type": "date", "maxlength": "10"}),
    )

    def __init__(
        self,
        data: object = None,
        *,
        cap: Decimal | None = None,
        match_ratio: Decimal | None = None,
        today: date | None = None,
        **kwargs: Any,
    ) -> None:
        self.is_object = data is None or isinstance(data, Mapping)
        # Anything else binds as an empty object with no fields, and clean() refuses it whole.
        body = data if isinstance(data, Mapping) or data is None else {}
        super().__init__(body, **kwargs)
        if not self.is_object:
            self.fields = {}
        if self.is_bound and (cap is None or match_ratio is None or today is None):
            rules = rules_in_force()
            cap = rules.annual_cap if cap is None else cap
            match_ratio = rules.match_ratio if match_ratio is None else match_ratio
            today = timezone.localdate() if today is None else today
        self.cap, self.match_ratio, self.today = cap, match_ratio, today

    # --- the rules, one method a field ---

    def clean_lodge_number(self) -> int:
        value = self.cleaned_data["lodge_number"]
        label = LABELS["lodge_number"]
        if isinstance(value, int):
            number = value
        else:
            text = value.strip() if self.lenient else value
            if not _DIGITS.fullmatch(text):
                raise ValidationError(
                    f"{label} must be a whole number like 123, written with digits 0-9 only."
                )
            significant = text.lstrip("0")
            # Never convert a huge digit string: it is out of range whatever it says.
            number = int(significant or "0") if len(significant) <= 5 else LODGE_NUMBER_MAX + 1
        if not 1 <= number <= LODGE_NUMBER_MAX:
            raise ValidationError(f"{label} must be between 1 and {LODGE_NUMBER_MAX}.")
        return number

    def clean_contact_name(self) -> str:
        return _text(self.cleaned_data["contact_name"], "contact_name", NAME_MAX_LENGTH)

    def clean_contact_email(self) -> str:
        label = LABELS["contact_email"]
        value = self.cleaned_data["contact_email"].strip()
        if len(value) > EMAIL_MAX_LENGTH:
            raise ValidationError(f"{label} must be at most {EMAIL_MAX_LENGTH} characters long.")
        if any(ch in _EMAIL_FORBIDDEN or _is_forbidden(ch) or ch.isspace() for ch in value):
            raise ValidationError(
                f"{label} must be one address like name@example.org, without spaces, line "
                "breaks, commas, semicolons or angle brackets."
            )
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(
                f"{label} must be a valid email address like name@example.org."
            ) from None
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"

    def clean_charity_name(self) -> str:
        return _text(self.cleaned_data["charity_name"], "charity_name", NAME_MAX_LENGTH)

    def clean_purpose(self) -> str:
        return _text(self.cleaned_data["purpose"], "purpose", PURPOSE_MAX_LENGTH, multiline=True)

    def clean_amount_raised(self) -> Decimal:
        amount, problems = self._amount("amount_raised", AMOUNT_RAISED_MAX, "the most we accept")
        if problems:
            raise ValidationError(problems)
        return amount

    def clean_amount_requested(self) -> Decimal:
        assert self.cap is not None
        assert self.match_ratio is not None
        amount, problems = self._amount("amount_requested", self.cap, "the yearly cap")
        # The ratio rule needs a valid amount raised; a match over the cap is still held to it.
        raised = self.cleaned_data.get("amount_raised")
        if raised is not None:
            # Rounding down: the foundation never matches a fraction of a cent more than the ratio.
            limit = (raised * self.match_ratio).quantize(CENT, rounding=ROUND_DOWN)
            if amount > limit:
                rule = (
                    "the amount raised (the foundation matches dollar for dollar)"
                    if self.match_ratio == 1
                    else f"{self.match_ratio.normalize():f} times the amount raised"
                )
                problems.append(
                    f"{LABELS['amount_requested']} must be at most {format_money(limit)}, {rule}."
                )
        if problems:
            raise ValidationError(problems)
        return amount

    def clean_event_date(self) -> date:
        assert self.today is not None
        label = LABELS["event_date"]
        raw = self.cleaned_data["event_date"]
        text = raw.strip() if self.lenient else raw
        match = _ISO_DATE.fullmatch(text)
        if match is None:
            raise ValidationError(f"{label} must be a date written YYYY-MM-DD, like 2026-05-01.")
        try:
            when = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise ValidationError(f"{label} must be a real date; {text} does not exist.") from None
        earliest, latest = _years_from(self.today, -1), _years_from(self.today, 1)
        if not earliest <= when <= latest:
            raise ValidationError(
                f"{label} must be within a year of today: from {long_date(earliest)} "
                f"to {long_date(latest)}."
            )
        return when

    def clean(self) -> dict[str, Any] | None:
        if not self.is_object:
            raise ValidationError(NOT_AN_OBJECT)
        return super().clean()

    def _amount(self, field: str, maximum: Decimal, why_maximum: str) -> tuple[Decimal, list[str]]:
        """The parsed amount and what is wrong with it (a parse failure is raised at once).

        An amount out of range is still returned, so the match rule can still be told.
        """
        label = LABELS[field]
        try:
            amount = parse_amount(self.cleaned_data[field], lenient=self.lenient, label=label)
        except ValueError as refusal:
            raise ValidationError(str(refusal)) from None
        problems = []
        if amount < AMOUNT_MIN:
            problems.append(f"{label} must be at least {format_money(AMOUNT_MIN)}.")
        if amount > maximum:
            problems.append(f"{label} must be at most {format_money(maximum)}, {why_maximum}.")
        return amount, problems

    # --- the outcome ---

    def error_lists(self) -> dict[str, list[str]]:
        """The errors as the API's ``errors``: each field (or ``non_field_errors``) to its messages."""
        errors = self.errors.get_json_data()
        return {
            # Django files non-field errors under "__all__", unless a body sent a key so named.
            ("non_field_errors" if name == "__all__" and name not in self.fields else name): [
                e["message"] for e in problems
            ]
            for name, problems in errors.items()
        }

    def application(self) -> ApplicationInput:
        """The cleaned application, or `ApplicationErrors` naming every problem.

        An unbound form (a body of ``None``) is not an object either.
        """
        if not self.is_bound:
            raise ApplicationErrors({"non_field_errors": [NOT_AN_OBJECT]})
        if not self.is_valid():
            raise ApplicationErrors(self.error_lists())
        return ApplicationInput(**{name: self.cleaned_data[name] for name in FIELDS})


class ApplicationJsonForm(ApplicationForm):
    """The website API's door: values as sent, plain decimal amounts, no unknown fields."""

    lenient = False

    amount_raised = _amount_field(LABELS["amount_raised"], 'a decimal string like "1250.00"', "")
    amount_requested = _amount_field(
        LABELS["amount_requested"], 'a decimal string like "1250.00"', ""
    )

    def __init__(self, data: object = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        if self.is_object and data is not None:
            assert isinstance(data, Mapping)
            for key in data:
                if key not in self.fields:
                    self.fields[key] = UnknownField(label=str(key))


def application_form(data: object, *, lenient: bool, **kwargs: Any) -> ApplicationForm:
    """The web form (``lenient=True``) or the API's form, bound to ``data``."""
    return (ApplicationForm if lenient else ApplicationJsonForm)(data, **kwargs)


def _text(raw: str, field: str, max_length: int, *, multiline: bool = False) -> str:
    label = LABELS[field]
    if any(unicodedata.category(ch) == "Cs" for ch in raw):
        raise ValidationError(f"{label} contains broken characters (unpaired surrogates).")
    value = unicodedata.normalize("NFC", raw).strip()
    if multiline:
        # Browsers send textarea line breaks as CRLF; store one kind of line break.
        value = value.replace("\r\n", "\n")
    allowed = {"\n", "\t"} if multiline else set()
    if any(ch not in allowed and ch not in _ALLOWED_FORMAT and _is_forbidden(ch) for ch in value):
        what = (
            "control characters or invisible formatting characters (line breaks and tabs are fine)"
            if multiline
            else "line breaks, control characters or invisible formatting characters"
        )
        raise ValidationError(f"{label} must not contain {what}.")
    if len(value) > max_length:
        raise ValidationError(
            f"{label} must be at most {max_length:,} characters long (it has {len(value):,})."
        )
    return value


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
