"""Actions and the navigation entry for the administration pages (Admin only)."""

from portal import roles
from portal.navigation import register_nav
from portal.permissions import register

register("portal.manage.users", roles_allowed={roles.ADMIN}, description="manage staff users")
register("portal.manage.audit", roles_allowed={roles.ADMIN}, description="read the audit log")

register_nav("Manage", "manage:users", action="portal.manage.users", order=800)
