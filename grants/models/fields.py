"""Model fields shared by the grants' models."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models


def money_field(**options: Any) -> models.DecimalField[Decimal, Decimal]:
    """Dollars and cents: never a float."""
    return models.DecimalField(max_digits=12, decimal_places=2, **options)
