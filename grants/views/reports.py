"""Finance reports: filtered previews, CSV and XLSX downloads, background exports."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from grants.fiscal_year import FiscalYear
from grants.models import ReportExport, Status
from grants.money import ZERO
from grants.reports.catalog import FORMATS, build_report
from grants.reports.chart import bar_chart, column_chart, district_bars, monthly_bars
from grants.reports.export_jobs import REPORT_INLINE_MAX_ROWS, export_path, report_export_start
from grants.reports.filters import ReportFilters
from grants.reports.summary import Summary
from grants.reports.table import MONEY, Report, totals_label
from grants.reports.writers import CONTENT_TYPES, csv_lines, file_name, write_xlsx
from grants.rules import read_rules_once
from grants.selectors.figures import Figures, figures_from_rows, fiscal_year_grants, grant_rows
from grants.selectors.fiscal_years import fiscal_year_choices
from grants.selectors.lodges import lodge_districts
from portal.lib.http import HtmxHttpRequest, form_error_status, results_or_page
from portal.lib.views import require

PER_PAGE = 50  # rows per page of a report's table; the downloads have every row
PAGES = (
    ("summary", "FY summary per lodge", "reports:summary"),
    ("ledger", "Grant ledger", "reports:ledger"),
    ("reconciliation", "Payment reconciliation", "reports:reconciliation"),
)


@dataclass(frozen=True)
class PreviewPage:
    """One page of a report's rows; the numbers the paginator shows."""

    number: int
    num_pages: int
    first: int  # 1-based position of the page's first row (0 on an empty report)
    last: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _page_number(raw: str | None) -> int:
    """The page asked for (junk or below 1: the first)."""
    number = int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 9 else 1
    return max(number, 1)


def _preview(
    report: Report, page_raw: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], PreviewPage, int]:
    """One page of rows as the page shows them (each lead cell's text and whether it is a
    number, and the other columns as (header, text) behind "More"), the totals row over every
    row (as the XLSX has it; empty if no column is totalled), the page's position and how many
    rows there are: one pass over every row, counted as it goes (no separate count query)."""
    number = _page_number(page_raw)
    preview, totals, total = _read(report, number)
    num_pages = max(1, -(-total // PER_PAGE))
    if number > num_pages:  # past the end: show the last page
        number = num_pages
        preview, totals, total = _read(report, number)
    start = (number - 1) * PER_PAGE
    page = PreviewPage(
        number=number,
        num_pages=num_pages,
        first=start + 1 if preview else 0,
        last=start + len(preview),
    )
    lead = [column for column in report.columns if not column.more]
    cells = [
        {
            "text": column.page_text(totals[column.key]) if column.key in totals else "",
            "num": column.numeric,
        }
        for column in lead
    ]
    cells[0]["text"] = totals_label(report, total)
    return preview, cells, page, total


def _read(report: Report, number: int) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    columns = report.columns
    lead = [c for c in columns if not c.more]
    more = [c for c in columns if c.more]
    start, stop = (number - 1) * PER_PAGE, number * PER_PAGE
    totals: dict[str, Any] = {
        column.key: ZERO if column.kind == MONEY else 0 for column in columns if column.total
    }
    preview = []
    count = 0
    for count, row in enumerate(report.rows(), start=1):
        if start < count <= stop:
            preview.append(
                {
                    "cells": [
                        {
                            "text": c.page_text(row[c.key]),
                            "num": c.numeric,
                            "wrap": c.width >= 30,
                            "warn": c.warns(row[c.key]),
                        }
                        for c in lead
                    ],
                    "more": [(c.header, c.page_text(row[c.key])) for c in more],
                }
            )
        for key in totals:
            if row[key] is not None:
                totals[key] += row[key]
    return preview, totals, count


def _headline(fy: FiscalYear) -> Figures:
    """The programme's paid, approved and received in ``fy`` (the line above every report)."""
    return figures_from_rows(grant_rows(*fiscal_year_grants(fy.key))).total


def _as_response(response: StreamingHttpResponse) -> HttpResponse:
    # Streamed replies are not HttpResponse subclasses; the views' type (and ``require``) say so.
    return cast(HttpResponse, response)


def _download(report: Report, fmt: str, filters: ReportFilters) -> HttpResponse:
    name = file_name(report, filters.fy.label, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(report), content_type=CONTENT_TYPES["csv"])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return _as_response(response)
    # XlsxWriter streams rows to disk (constant memory); the zipped file is sent from a temp file.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(report, spool)
    spool.seek(0)
    return _as_response(
        FileResponse(spool, as_attachment=True, filename=name, content_type=CONTENT_TYPES["xlsx"])
    )


def _report_page(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    filters = ReportFilters.from_query(request.GET)
    errors = filters.problems
    fmt = request.GET.get("format", "")
    report = build_report(slug, filters)
    template = f"grants/reports/{slug}.html"
    context: dict[str, Any] = {
        "title": report.title,
        "headline": _headline(filters.fy),
        "headline_fy": filters.fy,
        "slug": slug,
        "pages": PAGES,
        "filters": filters,
        "errors": errors,
        "fy_choices": fiscal_year_choices(filters.fy),
        "statuses": Status.choices,
        "districts": lodge_districts(),
        "query": filters.as_query().urlencode(),
        "inline_max": REPORT_INLINE_MAX_ROWS,
    }
    if fmt and fmt not in FORMATS:
        errors["format"] = ["Format: choose csv or xlsx."]
    if not errors and fmt in FORMATS:
        total = report.count()
        if total > REPORT_INLINE_MAX_ROWS:
            export = report_export_start(
                user=request.user, report=slug, fmt=fmt, filters=filters, rows_total=total
            )
            return redirect("reports:export", uuid=export.uuid)
        return _download(report, fmt, filters)
    if errors:
        return render(
            request, results_or_page(request, template), context, status=form_error_status()
        )
    rows, totals_row, page, total = _preview(report, request.GET.get("page"))
    context.update(
        {
            "columns": [column for column in report.columns if not column.more],
            "has_more": any(column.more for column in report.columns),
            "rows": rows,
            "totals_row": totals_row,
            "total": total,
            "page": page,
            "description": filters.describe(),
        }
    )
    if isinstance(report, Summary):
        context["monthly_chart"] = column_chart(
            monthly_bars(report.totals, filters.fy),
            chart_id="chart-months",
            title=f"Approved and paid per month, {filters.fy.label}",
        )
        context["months"] = monthly_bars(report.totals, filters.fy)
        context["district_chart"] = bar_chart(
            district_bars(report.totals),
            chart_id="chart-districts",
            title=f"Approved and paid by district, {filters.fy.label}",
        )
        context["districts_figures"] = district_bars(report.totals)
    return render(request, results_or_page(request, template), context)


@require_safe
@require("grants.reports.view")
@read_rules_once
def summary(request: HtmxHttpRequest) -> HttpResponse:
    return _report_page(request, "summary")


@require_safe
@require("grants.reports.view")
@read_rules_once
def ledger(request: HtmxHttpRequest) -> HttpResponse:
    return _report_page(request, "ledger")


@require_safe
@require("grants.reports.view")
@read_rules_once
def reconciliation(request: HtmxHttpRequest) -> HttpResponse:
    return _report_page(request, "reconciliation")


def _own_export(request: HtmxHttpRequest, uuid: UUID) -> ReportExport:
    """The export, if the user asked for it; anyone else gets a 404 (not even its existence)."""
    export = ReportExport.objects.filter(
        uuid=uuid, user_id=int(request.user.pk or 0), expires_at__gt=timezone.now()
    ).first()
    if export is None:
        raise Http404("No such export.")
    return export


@require_safe
@require("grants.reports.view")
def export_status(request: HtmxHttpRequest, uuid: UUID) -> HttpResponse:
    export = _own_export(request, uuid)
    template = (
        "grants/reports/export.html#progress" if request.htmx else "grants/reports/export.html"
    )
    return render(request, template, {"title": "Report export", "export": export})


@require_safe
@require("grants.reports.view")
def export_download(request: HtmxHttpRequest, uuid: UUID) -> HttpResponse:
    export = _own_export(request, uuid)
    path = export_path(export)
    if export.status != ReportExport.Status.DONE or not path.exists():
        return redirect("reports:export", uuid=export.uuid)
    return _as_response(
        FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=export.file_name,
            content_type=CONTENT_TYPES[export.format],
        )
    )
