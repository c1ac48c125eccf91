"""Programme rules per fiscal year: each existing version applies from the fiscal year
containing its start (under the fiscal-year start it had), and a change records why."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models


def fiscal_year_key(day: date, month: int, first: int) -> int:
    return day.year if (day.month, day.day) >= (month, first) else day.year - 1


def fill(apps: Any, schema_editor: Any) -> None:
    GrantRules = apps.get_model("grants", "GrantRules")
    zone = ZoneInfo(settings.TIME_ZONE)
    for rules in GrantRules.objects.all():
        local = rules.effective_from.astimezone(zone).date()
        rules.fiscal_year_from = fiscal_year_key(
            local, rules.fiscal_year_start_month, rules.fiscal_year_start_day
        )
        rules.save(update_fields=["fiscal_year_from"])


class Migration(migrations.Migration):
    dependencies = [("grants", "0005_merge_api_token_drift_quarantine")]

    operations = [
        migrations.AddField(
            model_name="grantrules",
            name="fiscal_year_from",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="grantrules", name="reason", field=models.TextField(blank=True)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
