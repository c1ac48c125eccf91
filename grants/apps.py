"""The grants app and what it adds to the portal's shell and to the Ninox mirror.

Registered in ``ready()`` (see ``portal/apps.py``), never by importing a view.
"""

from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = "Grants"

    def ready(self) -> None:
        from grants.audit_phrases import register_grant_phrases
        from grants.selectors import health
        from grants.selectors.dashboard import dashboard_figures
        from grants.sync_handlers import GrantHandler, LodgeHandler
        from ninox_backend.ninox.mirror import register_handler
        from portal import roles
        from portal.dashboard import Panel, register_panel
        from portal.health_panels import HealthPanel, register_health_panel
        from portal.manage import register_manage_page
        from portal.navigation import register_nav
        from portal.permissions import register

        # The actions, in the one permission map (Admin may do each).
        staff = {roles.REVIEWER, roles.FINANCE, roles.ADMIN}
        reviewer, finance, admin = {roles.REVIEWER}, {roles.FINANCE}, {roles.ADMIN}
        register("grants.queue.view", roles_allowed=reviewer, description="work the review queue")
        register("grants.application.view", roles_allowed=staff, description="read an application")
        register(
            "grants.application.decide",
            roles_allowed=reviewer,
            description="approve, reject or override",
        )
        register(
            "grants.application.approve_over_cap",
            roles_allowed=admin,
            description="approve an application over the lodge's remaining budget",
        )
        register(
            "grants.application.resend",
            roles_allowed=reviewer,
            description="resend emails and payment links",
        )
        register(
            "grants.payment.refund",
            roles_allowed=finance,
            description="refund a paid grant's share through Stripe",
        )
        register("grants.lodge.view", roles_allowed=staff, description="read lodge dashboards")
        register(
            "grants.reports.view",
            roles_allowed=finance,
            description="read and download finance reports",
        )
        register("grants.manage.rules", roles_allowed=admin, description="change the grant rules")
        register("grants.manage.tokens", roles_allowed=admin, description="manage API tokens")

        register_grant_phrases()

        # The shell: navigation, manage tabs, the dashboard panel and the health panels.
        register_nav("Review queue", "grants:queue", action="grants.queue.view", order=10)
        register_nav("Lodges", "grants:lodges", action="grants.lodge.view", order=20)
        register_nav("Reports", "reports:summary", action="grants.reports.view", order=30)
        register_manage_page(
            "Grant rules",
            "grants_manage:rules",
            order=30,
            description="The annual cap, the match, the auto-approve limit and the "
            "programme's addresses; each change is previewed before it is saved.",
        )
        register_manage_page(
            "API tokens",
            "grants_manage:tokens",
            order=40,
            description="The tokens the foundation's website sends applications with.",
        )
        register_panel(
            Panel(
                name="grants",
                template="grants/dashboard_panel.html",
                action="grants.lodge.view",
                context=dashboard_figures,
                order=10,
            )
        )
        register_health_panel(
            HealthPanel("ninox", "grants/health/ninox.html", health.ninox_panel, order=10)
        )
        register_health_panel(
            HealthPanel(
                "quarantine", "grants/health/quarantine.html", health.quarantine_panel, order=15
            )
        )
        register_health_panel(
            HealthPanel("outbox", "grants/health/outbox.html", health.outbox_panel, order=20)
        )
        register_health_panel(
            HealthPanel("stripe", "grants/health/stripe.html", health.stripe_panel, order=30)
        )

        # The Ninox mirror's sync handlers. Lodges first: grants link to them.
        register_handler("lodges", LodgeHandler)
        register_handler("grants", GrantHandler)
