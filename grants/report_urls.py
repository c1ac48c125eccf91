"""Finance reports, mounted at ``/reports/``."""

from django.urls import path

from grants.views import reports

app_name = "reports"

urlpatterns = [
    path("", reports.summary, name="summary"),
    path("ledger/", reports.ledger, name="ledger"),
    path("reconciliation/", reports.reconciliation, name="reconciliation"),
    path("exports/<uuid:uuid>/", reports.export_status, name="export"),
    path("exports/<uuid:uuid>/download/", reports.export_download, name="export_download"),
]
