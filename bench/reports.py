"""What a large grant ledger export costs: time and peak memory, CSV and XLSX.

    .venv/bin/python bench/reports.py [--small 5000] [--large 50000]

Builds a throwaway SQLite database with ``--small`` applications in one fiscal year
and ``--large`` in the next, then writes each year's ledger as CSV and as XLSX the way
the portal does (rows streamed from the database; XlsxWriter in constant-memory mode),
and as XLSX with openpyxl's write-only mode, tuned (one styled cell per column reused
row after row, the same formats), the other candidate. Time is measured without
tracing; peak Python memory (tracemalloc) in a second pass. The goals: the large
ledger's peak stays close to the small one's (memory flat as rows grow), and the XLSX
takes at most 3x the CSV's time. Writes ``bench/results/reports.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import ROOT, shown, write_results

LODGES = 1000
STATUSES = ("paid", "paid", "approved", "rejected", "needs_review", "submitted", "expired")


class CountingSink:
    """A text file that keeps only the number of characters written."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def seed(small: int, large: int, first_fy: int) -> None:
    from django.utils import timezone

    from grants.models import Application, Lodge, NinoxGrant, Payment

    zone = timezone.get_current_timezone()
    lodges = Lodge.objects.bulk_create(
        Lodge(ninox_id=i + 1, number=i + 1, name=f"Lodge {i + 1}", district=f"D{i % 12 + 1}")
        for i in range(LODGES)
    )
    serial = 0
    for fy, count in ((first_fy, small), (first_fy + 1, large)):
        start = date(fy, 5, 1)
        batch: list[Application] = []
        for i in range(count):
            serial += 1
            status = STATUSES[i % len(STATUSES)]
            day = start + timedelta(days=i % 365)
            moment = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
            batch.append(
                Application(
                    reference=f"MG-{fy}-{serial:06d}",
                    lodge=lodges[i % LODGES],
                    lodge_number=i % LODGES + 1,
                    contact_name="Jo Secretary",
                    contact_email="jo@example.org",
                    charity_name='Food bank, "north" branch',
                    purpose="Winter appeal for the food bank in town",
                    amount_raised=Decimal("250.00") + i % 500,
                    amount_requested=Decimal("250.00") + i % 500,
                    event_date=day,
                    status=status,
                    fiscal_year=fy,
                    grant_date=day if status in ("paid", "approved") else None,
                    paid_at=moment if status == "paid" else None,
                )
            )
            if len(batch) == 5000:
                Application.objects.bulk_create(batch)
                batch = []
        Application.objects.bulk_create(batch)
    Application.objects.update(submitted_at=timezone.now())
    paid = list(
        Application.objects.filter(status="paid").values_list(
            "id", "amount_raised", "reference", "lodge_id", "fiscal_year", "grant_date"
        )
    )
    Payment.objects.bulk_create(
        (
            Payment(
                application_id=app_id,
                stripe_session_id=f"cs_{app_id}",
                stripe_payment_intent_id=f"pi_{app_id}",
                amount=amount,
                status="paid",
                paid_at=timezone.now(),
            )
            for app_id, amount, *_ in paid
        ),
        batch_size=5000,
    )
    NinoxGrant.objects.bulk_create(
        (
            NinoxGrant(
                ninox_id=index + 1,
                lodge_id=lodge_id,
                reference=reference,
                amount=amount,
                grant_date=grant_date,
                fiscal_year=fy,
                status="Paid",
            )
            for index, (_id, amount, reference, lodge_id, fy, grant_date) in enumerate(paid)
        ),
        batch_size=5000,
    )


def write_xlsx_openpyxl(report: Any, target: Path) -> int:
    """The same workbook with openpyxl's write-only mode, tuned: styled cells made once per
    column and reused (a style set per cell is what makes openpyxl slow)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from grants.reports.writers import NUMBER_FORMATS
    from portal.lib.spreadsheet import is_formula_like

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=report.title[:31])
    columns = report.columns
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Any, number_format: str | None = None, **style: Any) -> Any:
        made = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            made.data_type = "s"  # never a formula
        if number_format:
            made.number_format = number_format
        for name, setting in style.items():
            setattr(made, name, setting)
        return made

    header = []
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(
            column.width, len(column.header) + 2
        )
        header.append(cell(column.header, font=bold))
    sheet.append(header)
    formats = [NUMBER_FORMATS.get(column.kind) for column in columns]
    styled = [cell(None, f) if f else None for f in formats]
    texts = [cell("") for _ in columns]
    quoted = cell("", quotePrefix=True)
    keys = [column.key for column in columns]
    totals = {column.key: 0 for column in columns if column.total}
    count = 0
    for row in report.rows():
        count += 1
        values: list[Any] = []
        for index, key in enumerate(keys):
            value = row[key]
            if isinstance(value, str):
                reused = quoted if is_formula_like(value) else texts[index]
                reused.value = value
                reused.data_type = "s"
                values.append(reused)
            elif value is not None and (styled_cell := styled[index]) is not None:
                styled_cell.value = value
                values.append(styled_cell)
            else:
                values.append(value)
        sheet.append(values)
        for key in totals:
            if row[key] is not None:
                totals[key] += row[key]
    sheet.append(
        [
            cell("Total", font=bold)
            if index == 0
            else cell(Decimal(totals[column.key]), formats[index], font=bold)
            if column.total
            else None
            for index, column in enumerate(columns)
        ]
    )
    workbook.save(target)
    return count


def measure(write: Callable[[], Any]) -> dict[str, float]:
    started = time.perf_counter()
    write()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    write()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": round(seconds, 2), "peak_mib": round(peak / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=50000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    os.environ["PORTAL_DATA_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.chdir(ROOT)
    import django

    django.setup()
    from django.core.management import call_command

    from grants.reports.filters import ReportFilters
    from grants.reports.ledger import Ledger
    from grants.reports.writers import write_csv, write_xlsx
    from grants.rules import current_fiscal_year

    call_command("migrate", verbosity=0)
    first_fy = current_fiscal_year().key - 1
    started = time.perf_counter()
    seed(args.small, args.large, first_fy)
    print(
        f"seeded {args.small:,} + {args.large:,} applications in {time.perf_counter() - started:.1f} s"
    )

    from django.http import QueryDict

    results: dict[str, Any] = {"rows": {}, "python": sys.version.split()[0]}
    for fy, label in ((first_fy, "small"), (first_fy + 1, "large")):
        ledger = Ledger(ReportFilters.from_query(QueryDict(f"fy={fy}")))
        rows = ledger.count()
        entry: dict[str, Any] = {"rows": rows}
        entry["csv"] = measure(lambda ledger=ledger: write_csv(ledger, CountingSink()))  # type: ignore[misc,arg-type]
        target = workdir / f"ledger-{label}.xlsx"
        entry["xlsx"] = measure(lambda ledger=ledger, target=target: write_xlsx(ledger, target))  # type: ignore[misc]
        entry["xlsx"]["file_mib"] = round(target.stat().st_size / 2**20, 1)
        other = workdir / f"ledger-{label}-openpyxl.xlsx"
        entry["xlsx_openpyxl"] = measure(
            lambda ledger=ledger, other=other: write_xlsx_openpyxl(ledger, other)  # type: ignore[misc]
        )
        entry["xlsx_openpyxl"]["file_mib"] = round(other.stat().st_size / 2**20, 1)
        entry["xlsx_to_csv_time"] = round(entry["xlsx"]["seconds"] / entry["csv"]["seconds"], 2)
        results["rows"][label] = entry
        print(
            f"{rows:>7,} rows  CSV {entry['csv']['seconds']:>6.2f} s, peak {entry['csv']['peak_mib']:>5.1f} MiB"
            f"   XLSX {entry['xlsx']['seconds']:>6.2f} s, peak {entry['xlsx']['peak_mib']:>5.1f} MiB"
            f" ({entry['xlsx']['file_mib']} MiB file; x{entry['xlsx_to_csv_time']} the CSV's time)"
            f"   openpyxl tuned {entry['xlsx_openpyxl']['seconds']:>6.2f} s,"
            f" peak {entry['xlsx_openpyxl']['peak_mib']:>5.1f} MiB"
        )
    small, large = results["rows"]["small"], results["rows"]["large"]
    for fmt in ("csv", "xlsx", "xlsx_openpyxl"):
        ratio = large[fmt]["peak_mib"] / max(small[fmt]["peak_mib"], 0.1)
        results[f"{fmt}_peak_ratio_large_to_small"] = round(ratio, 2)
        print(
            f"{fmt.upper()} peak memory, {large['rows']:,} vs {small['rows']:,} rows: x{ratio:.2f}"
        )
    path = write_results("reports", results)
    print(f"wrote {shown(path)}")


if __name__ == "__main__":
    main()
