"""The staff portal's shell: settings, login, roles, permissions, audit log, Celery app."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
