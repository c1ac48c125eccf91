"""Helpers shared by the portal's apps (never a ``utils`` app)."""
