"""The app config of ninox_backend's Django half: the call log, sync state, commands and tasks.

It may import Django, never the portal's apps.
"""

from django.apps import AppConfig


class NinoxBackendConfig(AppConfig):
    name = "ninox_backend.ninox"
    label = "ninox"
    verbose_name = "Ninox"
    default_auto_field = "django.db.models.BigAutoField"
