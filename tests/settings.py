"""Test settings: the environment a test run needs, then the real settings module.

Values here are set only when the environment does not already have them, so CI
can point DATABASE_URL at PostgreSQL and REDIS_URL at a real server.
"""

import os
import tempfile

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
