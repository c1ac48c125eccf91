"""ninox_backend's Django half: the call log, sync state, stored profile, commands and tasks.

It may import Django and the core (``ninox_backend``), never the portal's apps; the
core never imports it. The app's label stays ``ninox``, so the migrations hold.
"""
