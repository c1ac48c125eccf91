"""The grants' actions in the one permission map, and their navigation entries."""

from portal import roles
from portal.navigation import register_nav
from portal.permissions import register

STAFF = {roles.REVIEWER, roles.FINANCE, roles.ADMIN}

register("grants.queue.view", roles_allowed={roles.REVIEWER}, description="work the review queue")
register("grants.application.view", roles_allowed=STAFF, description="read an application")
register(
    "grants.application.decide",
    roles_allowed={roles.REVIEWER},
    description="approve, reject or override",
)
register(
    "grants.application.approve_over_cap",
    roles_allowed={roles.ADMIN},
    description="approve an application over the lodge's remaining budget",
)
register(
    "grants.application.resend",
    roles_allowed={roles.REVIEWER},
    description="resend emails and payment links",
)
register("grants.lodge.view", roles_allowed=STAFF, description="read lodge dashboards")
register(
    "grants.reports.view",
    roles_allowed={roles.FINANCE},
    description="read and download finance reports",
)

register_nav("Review queue", "grants:queue", action="grants.queue.view", order=10)
register_nav("Lodges", "grants:lodges", action="grants.lodge.view", order=20)
