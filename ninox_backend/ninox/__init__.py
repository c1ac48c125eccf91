"""ninox_backend's Django half, the app ``ninox``: the call log, sync state, stored profile,
commands and tasks.

It may import Django and the core (``ninox_backend``), never the portal's apps; the
core never imports it. The package is named after its label (``ninox``), so the app's
commands are listed under ``[ninox]`` in ``manage.py help`` and its migrations hold.
"""
