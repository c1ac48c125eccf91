"""Report tasks: thin, they take ids and call the export service."""

from __future__ import annotations

from celery import shared_task

from grants.reports.export_jobs import report_export_build, report_exports_purge


@shared_task(time_limit=3600, soft_time_limit=3540)
def report_export_task(export_id: int) -> str:
    """Build one queued export file (a large CSV or XLSX)."""
    return report_export_build(export_id)


@shared_task
def report_exports_purge_task() -> int:
    """Delete exports past their keeping time (beat runs it hourly)."""
    return report_exports_purge()
