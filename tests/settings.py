"""Test settings: the environment a test run needs, then the real settings module.

A developer's shell may hold the portal's own configuration: a real Ninox key, Stripe
keys, an SMTP server, ``NINOX_API=workspace``. None of it reaches a test run (or the
portal processes its tests start, which inherit this environment): those variables are
dropped and the test values below set. Only where the services are comes from the
environment, so CI can point ``DATABASE_URL`` at PostgreSQL and ``REDIS_URL`` at a real
server; ``PORTAL_DATA_DIR`` too (a bench's processes share one).
"""

import os
import tempfile

PASSED_THROUGH = {"DATABASE_URL", "REDIS_URL", "PORTAL_DATA_DIR"}
_OWN_PREFIXES = ("NINOX_", "STRIPE_", "EMAIL_", "GRANT_", "PORTAL_", "SECURE_", "CELERY_")
_OWN_NAMES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEFAULT_FROM_EMAIL",
    "FOUNDATION_NAME",
    "TIME_ZONE",
    "LOG_LEVEL",
    "DEMO_PASSWORD",
}
for _name in list(os.environ):
    if _name not in PASSED_THROUGH and (_name.startswith(_OWN_PREFIXES) or _name in _OWN_NAMES):
        del os.environ[_name]

_defaults = {
    "DEBUG": "false",
    "SECRET_KEY": "test-secret-key-canary-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "PORTAL_DATA_DIR": os.path.join(tempfile.gettempdir(), f"portal-tests-{os.getpid()}"),
    "PORTAL_REQUIRE_2FA": "false",
    "SECURE_SSL_REDIRECT": "false",
    "EMAIL_URL": "memorymail://",
    "PORTAL_ENV_FILE": "",
    "CELERY_BROKER_URL": "memory://",
}
for _name, _value in _defaults.items():
    os.environ.setdefault(_name, _value)

from portal.settings import *  # noqa: E402, F403

# Unit tests run tasks in-process; tests with a real worker override this.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
