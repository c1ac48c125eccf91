"""Finance reports: the FY summary per lodge, the grant ledger, the payment reconciliation.

Each report is a list of columns and a stream of rows, so the page preview, the CSV
and the XLSX export read the same figures. ``export`` writes them, ``chart`` draws them.
"""
