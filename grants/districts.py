"""Districts in their natural order: "First", "Second", … "Twelfth" (or "3", "District 12")
by number, never alphabetically (which would put Eighth before First)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import Case, IntegerField, Q, Value, When

_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
_NUMBER = {word: place for place, word in enumerate(_ORDINALS, start=1)}
_DIGITS = re.compile(r"\d+")


def district_number(name: str) -> int | None:
    """The number a district's name holds ("Eleventh" 11, "District 3" 3, "2nd" 2), or None."""
    for word in re.findall(r"[a-z]+", name.lower()):
        if word in _NUMBER:
            return _NUMBER[word]
    digits = _DIGITS.search(name)
    return int(digits.group()) if digits else None


def district_key(name: str) -> tuple[int, int, str]:
    """Sort key: numbered districts by number first, then any others by name."""
    number = district_number(name)
    return (0, number, name.lower()) if number is not None else (1, 0, name.lower())


def sorted_districts(names: Iterable[str]) -> list[str]:
    return sorted(names, key=district_key)


def district_order() -> Case:
    """The same order in SQL, for a queryset sorted by district: a name that is or starts
    with an ordinal ("Eighth", "eighth district") by its number, then everything else after
    (sorted by name by the caller)."""
    return Case(
        *[
            When(Q(district__iexact=word) | Q(district__istartswith=f"{word} "), then=Value(place))
            for word, place in _NUMBER.items()
        ],
        default=Value(len(_ORDINALS) + 1),
        output_field=IntegerField(),
    )
