"""The Django commands: ninox_sync, ninox_check and ninox_schema against the emulator."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from grants.models import Lodge, NinoxGrant

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ninox_sync_loads_the_mirror_then_costs_one_call_per_table(ninox: Any) -> None:
    out, _ = run("ninox_sync")
    assert "Full sync: 1620 created" in out
    assert Lodge.objects.count() == 120
    assert NinoxGrant.objects.count() == 1500
    run("ninox_sync")  # once after a load: what lay above each first page's mark
    calls = ninox.emulator.calls
    out, _ = run("ninox_sync")
    assert "Incremental sync: 0 created, 0 updated, 0 deleted" in out
    assert "2 Ninox call(s)" in out
    assert ninox.emulator.calls - calls == 2


@pytest.mark.parametrize("ninox_dialect", ["docs", "legacy"])
def test_ninox_sync_full_completes_when_the_progress_estimate_is_refused(ninox: Any) -> None:
    ninox.emulator.faults.configure("query_refused")
    out, _ = run("ninox_sync", "--full")
    assert "Full sync: 1620 created" in out
    assert NinoxGrant.objects.count() == 1500


def test_ninox_sync_says_why_when_ninox_fails(ninox: Any) -> None:
    ninox.emulator.faults.configure("503=1")
    with pytest.raises(CommandError, match="Ninox sync failed: NinoxServerError"):
        run("ninox_sync")


def test_ninox_check_passes_on_the_demo_database(ninox: Any) -> None:
    out, _ = run("ninox_check")
    assert "The mapping matches the live schema." in out


def test_ninox_check_names_every_missing_or_mistyped_field(ninox: Any, settings: Any) -> None:
    schema = {
        key: {"table": value["table"], "fields": dict(value["fields"])}
        for key, value in settings.NINOX_SCHEMA.items()
    }
    schema["grants"]["fields"]["amount"] = ("Amount", "text")
    schema["grants"]["fields"]["approver"] = ("Approved By", "text")
    schema["lodges"]["fields"]["fy_total"] = ("FY Total", "number")
    settings.NINOX_SCHEMA = schema
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("ninox_check", stdout=out, stderr=err)
    problems = err.getvalue()
    assert "Grants.Amount: is number, expected text" in problems
    assert "Grants.Approved By: field missing" in problems
    assert "Lodges.FY Total: is a formula field" in problems


def test_ninox_schema_prints_tables_fields_choices_references_and_formulas(ninox: Any) -> None:
    out, _ = run("ninox_schema")
    assert "Table Lodges" in out
    assert "Table Grants" in out
    assert "choices: Approved, Paid, Cancelled" in out
    assert "→ Lodges" in out
    assert "FY Total" in out
