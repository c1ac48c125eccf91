"""Public references for applications: ``MG-2026-00042`` (year of submission, then a counter)."""

from __future__ import annotations

from django.db.models import F

from grants.models import NinoxGrant, ReferenceCounter

PREFIX = "MG"


def _highest_in_ninox(year: int) -> int:
    """The highest counter already used in Ninox for ``year`` (grants the portal wrote earlier)."""
    prefix = f"{PREFIX}-{year}-"
    numbers = [
        int(ref[len(prefix) :])
        for ref in NinoxGrant.objects.filter(reference__startswith=prefix).values_list(
            "reference", flat=True
        )
        if ref[len(prefix) :].isascii() and ref[len(prefix) :].isdigit() and len(ref) < 40
    ]
    return max(numbers, default=0)


def next_reference(year: int) -> str:
    """The next unused reference for ``year``. Call inside the submitting transaction."""
    while True:
        if not ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1):
            # The year's first application: the counter starts above Ninox's highest.
            ReferenceCounter.objects.get_or_create(
                year=year, defaults={"last": lambda: _highest_in_ninox(year)}
            )
            continue
        number = ReferenceCounter.objects.select_for_update().get(year=year).last
        reference = f"{PREFIX}-{year}-{number:05d}"
        # A reference already in Ninox (a restored database, say) is skipped, never shared.
        if not NinoxGrant.objects.filter(reference=reference).exists():
            return reference
