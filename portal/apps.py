"""The portal app. Every app registers its contributions to the shell in ``ready()``.

The permission map, the navigation, the dashboard and health panels, the manage tabs
and the mirror's sync handlers are filled here and in ``GrantsConfig.ready()``, never
as a side effect of importing a view, so a shell, a worker and the web process see the
same actions, tabs and panels (``tests/test_registries.py`` holds it to that).
"""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from portal import (
            roles,
            signals,  # noqa: F401 - connects the audit and session handlers
        )
        from portal.audit_text import register_portal_phrases
        from portal.health_panels import HealthPanel, register_health_panel, workers_panel
        from portal.manage import register_manage_page
        from portal.navigation import register_nav
        from portal.permissions import register

        staff = {roles.REVIEWER, roles.FINANCE, roles.ADMIN}
        admin = {roles.ADMIN}
        register("portal.home", roles_allowed=staff, description="see the staff dashboard")
        register(
            "portal.health.view", roles_allowed=staff, description="read the integration health"
        )
        register(
            "portal.health.act",
            roles_allowed=admin,
            description="act on the integration health page (sync now, retry)",
        )
        register("portal.manage.users", roles_allowed=admin, description="manage staff users")
        register("portal.manage.audit", roles_allowed=admin, description="read the audit log")

        register_nav("Dashboard", "home", action="portal.home", order=0)
        register_nav("Manage", "manage:index", action="portal.manage.users", order=800)
        register_nav("Health", "health", action="portal.health.view", order=900)

        register_manage_page(
            "Users",
            "manage:users",
            order=10,
            description="Invite staff, set their roles, deactivate an account or reset "
            "a second factor.",
        )
        register_manage_page(
            "Audit log",
            "manage:audit",
            order=90,
            description="Who did what and when, filtered and downloadable as CSV.",
        )

        register_portal_phrases()

        register_health_panel(
            HealthPanel("workers", "portal/health/workers.html", workers_panel, order=90)
        )
