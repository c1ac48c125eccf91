"""``warm_up``: what a web worker would otherwise do on its first requests, done at start.

A fresh worker's first application paid about 95 ms of CPU more than the next (measured
with cProfile in a spawned process): Django's e-mail validator compiling its domain
pattern (25 ms), the Celery app finalizing its tasks (14 ms), and the URLconf's view
modules being imported. When many lodges apply just after a deploy, a worker's threads
all meet these at once, and a lazily compiled pattern may be compiled by several of them.

Nothing here reads the database or opens a connection: it runs while the WSGI module is
imported. A failure is logged and the worker starts anyway (it is only slower at first).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def warm_up() -> None:
    try:
        from django.core.validators import EmailValidator
        from django.urls import get_resolver

        from portal.celery import app

        get_resolver().url_patterns  # noqa: B018  # imports every view module
        EmailValidator()("warm-up@example.org")  # compiles the shared, lazy patterns
        app.finalize(auto=True)
    except Exception:
        logger.exception("Warming up the web worker failed; it starts cold")
