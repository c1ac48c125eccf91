"""Background export jobs: a large report is built to a file by a task, not in the request.

Small exports answer the request at once (the view streams them with ``writers``).

A background export is kept in ``PORTAL_DATA_DIR/exports`` for ``EXPORT_KEEP`` and may
be fetched only by the user who asked for it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from grants.models import ReportExport
from grants.reports.catalog import FORMATS, REPORTS, build_report
from grants.reports.filters import ReportFilters
from grants.reports.writers import file_name, write_csv, write_xlsx
from portal.audit import audit_record

# Up to this many rows an export is built while the user waits; beyond it, by a task.
REPORT_INLINE_MAX_ROWS = 5000
EXPORT_KEEP = timedelta(hours=24)


def exports_dir() -> Path:
    path = Path(settings.PORTAL_DATA_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(export: ReportExport) -> Path:
    return exports_dir() / f"{export.uuid}.{export.format}"


@transaction.atomic
def report_export_start(
    *, user: Any, report: str, fmt: str, filters: ReportFilters, rows_total: int
) -> ReportExport:
    """Record the request and queue the task (after the commit, so the row is there)."""
    from grants.reports.tasks import report_export_task

    if report not in REPORTS or fmt not in FORMATS:
        raise ValueError(f"unknown export {report}.{fmt}")
    export = ReportExport.objects.create(
        user=user,
        report=report,
        format=fmt,
        query=filters.as_query().urlencode()[:500],
        rows_total=rows_total,
        file_name=file_name(build_report(report, filters), filters.fy.label, fmt),
        expires_at=timezone.now() + EXPORT_KEEP,
    )
    audit_record(
        actor=user,
        action="report.export_requested",
        object_type="grants.reportexport",
        object_id=str(export.uuid),
        object_label=export.file_name,
        after={"report": report, "format": fmt, "filters": export.query},
    )
    transaction.on_commit(lambda: report_export_task.delay(export.pk))
    return export


def report_export_build(export_id: int) -> str:
    """Build the file for a queued export. Claimed first, so a duplicate task does nothing."""
    claimed = ReportExport.objects.filter(id=export_id, status=ReportExport.Status.PENDING).update(
        status=ReportExport.Status.RUNNING
    )
    if not claimed:
        return "not pending"
    export = ReportExport.objects.get(id=export_id)
    filters = ReportFilters.from_query(QueryDict(export.query))
    report = build_report(export.report, filters)
    path = export_path(export)
    partial = path.with_suffix(path.suffix + ".part")

    def progress(rows: int) -> None:
        ReportExport.objects.filter(id=export_id).update(rows_done=rows)

    try:
        if export.format == "csv":
            with partial.open("w", encoding="utf-8", newline="") as target:
                write_csv(report, target, progress=progress)
        else:
            write_xlsx(report, partial, progress=progress)
        partial.replace(path)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        ReportExport.objects.filter(id=export_id).update(
            status=ReportExport.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:300],
            finished_at=timezone.now(),
        )
        raise
    ReportExport.objects.filter(id=export_id).update(
        status=ReportExport.Status.DONE,
        rows_done=export.rows_total,
        finished_at=timezone.now(),
    )
    return "done"


def report_exports_purge(*, now: Any = None) -> int:
    """Delete exports past their time, files first; returns how many went."""
    now = now or timezone.now()
    expired = list(ReportExport.objects.filter(expires_at__lte=now))
    for export in expired:
        export_path(export).unlink(missing_ok=True)
    ReportExport.objects.filter(id__in=[e.id for e in expired]).delete()
    return len(expired)
