"""Finance reports: the FY summary per lodge, the grant ledger, the payment reconciliation.

Each report declares its columns once (key, header, kind) and streams rows keyed by
column key, so the page preview, the CSV and the XLSX read the same figures.
``catalog`` names the reports, ``writers`` writes CSV and XLSX, ``export_jobs`` builds
large exports in the background, ``chart`` draws the summary.
"""
