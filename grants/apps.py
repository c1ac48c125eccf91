from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = "Grants"

    def ready(self) -> None:
        from grants import permissions  # noqa: F401 - registers the grants' actions
        from grants.ninox_mirror import GrantHandler, LodgeHandler
        from grants.views import dashboard  # noqa: F401 - registers the dashboard panel
        from ninox_backend.django.mirror import register_handler

        # Lodges first: grants link to them.
        register_handler("lodges", LodgeHandler)
        register_handler("grants", GrantHandler)
