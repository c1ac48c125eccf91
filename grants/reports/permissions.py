"""The reports' navigation entry (the action ``grants.reports.view`` is in grants.permissions)."""

from portal.navigation import register_nav

register_nav("Reports", "reports:summary", action="grants.reports.view", order=30)
