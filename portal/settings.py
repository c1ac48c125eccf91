"""Settings for the grants portal, read from the environment (see .env.example).

Every variable is documented in .env.example and the README's configuration
table. A missing or malformed value stops the start with a message naming it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portal.lib.datadir import make_private_data_dir
from portal.lib.envconfig import Settings

BASE_DIR = Path(__file__).resolve().parent.parent

_env_file = os.environ.get("PORTAL_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file and Path(_env_file).is_file():
    environ.Env.read_env(_env_file, overwrite=False)

cfg = Settings()

DEBUG: bool = cfg.boolean("DEBUG", False)

PORTAL_DATA_DIR = Path(cfg.text("PORTAL_DATA_DIR", str(BASE_DIR / "var"))).resolve()
make_private_data_dir(PORTAL_DATA_DIR)  # 0700; everything the portal writes there is 0600


def _development_secret_key() -> str:
    # Only with DEBUG: a key kept in the data dir, so sessions survive restarts.
    key_file = PORTAL_DATA_DIR / "dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


if DEBUG:
    SECRET_KEY: str = cfg.text("SECRET_KEY", None) or _development_secret_key()
else:
    SECRET_KEY = cfg.required_text(
        "SECRET_KEY",
        rule="a long random string (python -c 'import secrets; print(secrets.token_urlsafe(50))')",
    )
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is malformed: it needs at least 50 varied characters."
        )

ALLOWED_HOSTS: list[str] = cfg.csv_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
PORTAL_BASE_URL: str = cfg.url("PORTAL_BASE_URL", "http://127.0.0.1:8000")
TIME_ZONE: str = cfg.text("TIME_ZONE", "America/Chicago")
try:
    from zoneinfo import ZoneInfo

    ZoneInfo(TIME_ZONE)
except Exception:
    raise ImproperlyConfigured(
        f"TIME_ZONE is malformed: an IANA zone name like America/Chicago (got {TIME_ZONE!r})."
    ) from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "portal",
    "ninox_backend.ninox",
    "grants",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SessionIdleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.HtmxMessagesMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "portal.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.shell",
            ],
            # The one date format (portal_date, portal_datetime) in every page and email.
            "builtins": ["portal.templatetags.portal_dates"],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": cfg.parsed(
        "DATABASE_URL",
        f"sqlite:///{PORTAL_DATA_DIR / 'portal.sqlite3'}",
        environ.Env.db_url_config,
        rule="a database URL like postgres://user:pass@host:5432/name or sqlite:////abs/path.sqlite3",
    )
}
_ENGINES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}
if DATABASES["default"].get("ENGINE") not in _ENGINES:
    raise ImproperlyConfigured(
        "DATABASE_URL is malformed: the portal runs on postgres:// or sqlite:// only."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Wait for the write lock instead of failing with "database is locked".
            "timeout": 30,
            # Every transaction takes the write lock at its start: the budget lock on SQLite.
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -----------------------------------------------------
REDIS_URL: str | None = cfg.url("REDIS_URL", None, schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
else:
    # Shared by every process on the machine (rate limits need that), no server needed.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(PORTAL_DATA_DIR / "cache"),
        }
    }

CELERY_BROKER_URL: str = (
    cfg.url("CELERY_BROKER_URL", None, schemes=("redis", "rediss", "amqp", "sqla+sqlite", "memory"))
    or REDIS_URL
    or f"sqla+sqlite:///{PORTAL_DATA_DIR / 'broker.sqlite3'}"
)
# A task runs far less than this; a message unacknowledged for longer is redelivered.
CELERY_VISIBILITY_TIMEOUT = 3600
# Redis redelivers unacknowledged messages after this; other transports take no such option.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    if CELERY_BROKER_URL.startswith("redis")
    else {}
)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(PORTAL_DATA_DIR / "celerybeat-schedule")
# Periodic work; apps add their own entries. What an idle portal costs in Ninox calls is set
# here (tests/portal/test_idle_cost.py runs it for a simulated month: at most 12,000 calls):
# Grants every five minutes (one call when nothing changed; a successful sync is the probe),
# Lodges, the schema check and the drift check hourly; the sync engine reconciles ids daily.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "portal.tasks.heartbeat_task", "schedule": 60.0},
    # Calls Ninox only when no call has succeeded for 11 minutes (syncs failing or stale).
    "ninox-probe": {"task": "portal.tasks.ninox_probe_task", "schedule": 300.0},
    "ninox-sync-grants": {
        "task": "portal.tasks.ninox_mirror_task",
        "schedule": 300.0,
        "kwargs": {"tables": ["grants"]},
    },
    "ninox-sync-lodges": {
        "task": "portal.tasks.ninox_mirror_task",
        "schedule": 3600.0,
        "kwargs": {"tables": ["lodges"]},
    },
    "ninox-calls-prune": {
        "task": "ninox_backend.ninox.tasks.ninox_calls_prune_task",
        "schedule": 86400.0,
    },
    "grants-outbox-sweep": {"task": "grants.tasks.outbox_sweep_task", "schedule": 60.0},
    "grants-payments-expire": {"task": "grants.tasks.payments_expire_task", "schedule": 900.0},
    # Hourly; the task sends only at the rules' digest hour (local), once a day.
    "grants-digest": {"task": "grants.tasks.digest_task", "schedule": crontab(minute=0)},
    "ninox-schema-check": {
        "task": "grants.health_tasks.ninox_schema_check_task",
        "schedule": 3600.0,
    },
    "ninox-drift-check": {"task": "grants.drift_tasks.drift_check_task", "schedule": 3600.0},
    "report-exports-purge": {
        "task": "grants.reports.tasks.report_exports_purge_task",
        "schedule": 3600.0,
    },
}
# Task modules outside an app's tasks.py, so the worker registers them too.
CELERY_IMPORTS = ("grants.health_tasks", "grants.drift_tasks", "grants.reports.tasks")
CELERY_TASK_ALWAYS_EAGER = False  # eager mode is for unit tests only (set by tests/settings.py)

# --- Authentication, sessions, two-factor --------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.auth_backend.PortalBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

PORTAL_SESSION_IDLE_HOURS: int = cfg.integer(
    "PORTAL_SESSION_IDLE_HOURS", 8, minimum=1, maximum=24 * 14
)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = PORTAL_SESSION_IDLE_HOURS * 3600
# The age counts from the last save, and portal.middleware.SessionIdleMiddleware saves an
# active session once a minute: an idle limit without an UPDATE on every page.
SESSION_SAVE_EVERY_REQUEST = False
PORTAL_SESSION_TOUCH_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = False  # htmx reads no cookie: the token is set on <body> instead
CSRF_TRUSTED_ORIGINS = [PORTAL_BASE_URL] if PORTAL_BASE_URL.startswith("https://") else []

PORTAL_REQUIRE_2FA: bool = cfg.boolean("PORTAL_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = "Grants portal"

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/locked_out.html"
AXES_VERBOSE = False
# Trusted proxies in front, each appending to X-Forwarded-For; portal.lib.http.client_ip
# reads the client's address behind them, for axes as for everything else.
PORTAL_PROXY_COUNT: int = cfg.integer("PORTAL_PROXY_COUNT", 0, minimum=0, maximum=5)
AXES_CLIENT_IP_CALLABLE = "portal.lib.http.client_ip"
# Axes would log the username and IP of every failure; our audit log keeps those instead.
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# --- Security headers ---------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = cfg.boolean("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = cfg.integer("SECURE_HSTS_SECONDS", 31536000, minimum=0, maximum=63072000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, "https://checkout.stripe.com"],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = PORTAL_DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

# --- Email --------------------------------------------------------------------
_email = cfg.parsed(
    "EMAIL_URL",
    "consolemail://",
    environ.Env.email_url_config,
    rule="an email URL like smtp+tls://user:pass@smtp.example.org:587 or consolemail://",
)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL: str = cfg.text("DEFAULT_FROM_EMAIL", "Grants portal <grants@example.org>")
# The foundation's name: in every page's header, the public pages and every email's signature
# (with the contact address, DEFAULT_FROM_EMAIL's address).
FOUNDATION_NAME: str = cfg.text("FOUNDATION_NAME", "The Foundation")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Ninox --------------------------------------------------------------------
NINOX_EMULATOR_PORT: int = cfg.integer("NINOX_EMULATOR_PORT", 8765, minimum=1, maximum=65535)


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.strip().lower() not in choices:
            raise ValueError(value)
        return value.strip().lower()

    return parse


# Which of Ninox's two public APIs the account speaks: classic (api.ninox.com/v1: teams,
# databases, sinceSq, NX) or workspace (Ninox's newer /api/v1/workspace/{id}/modules/…).
# `manage.py ninox_doctor` tries both and proposes the one that answers.
NINOX_API: str = cfg.parsed(
    "NINOX_API", "classic", _one_of("classic", "workspace"), rule="classic or workspace"
)
# How the embedded emulator answers: docs (as Ninox's documents show), legacy, or workspace
# (the workspace API); the default follows NINOX_API.
NINOX_EMULATOR_DIALECT: str = cfg.parsed(
    "NINOX_EMULATOR_DIALECT",
    "workspace" if NINOX_API == "workspace" else "docs",
    _one_of("docs", "legacy", "workspace"),
    rule="docs, legacy or workspace",
)
# Unset NINOX_BASE_URL means the embedded emulator that `make run` starts, with demo data.
NINOX_EMBEDDED: bool = not cfg.text("NINOX_BASE_URL", None)
if NINOX_EMBEDDED and (NINOX_EMULATOR_DIALECT == "workspace") != (NINOX_API == "workspace"):
    raise ImproperlyConfigured(
        "NINOX_EMULATOR_DIALECT=workspace goes with NINOX_API=workspace (and docs or legacy "
        "with NINOX_API=classic): the embedded emulator serves one API."
    )
# Classic: the API's root including /v1. Workspace: the host only (the paths begin /api/v1).
NINOX_BASE_URL: str = cfg.url(
    "NINOX_BASE_URL",
    f"http://127.0.0.1:{NINOX_EMULATOR_PORT}" + ("" if NINOX_API == "workspace" else "/v1"),
)
NINOX_EMULATOR_TOKEN = "dev-token"  # noqa: S105 - the embedded emulator's key, not a secret  # nosec B105
NINOX_API_KEY: str | None = cfg.text(
    "NINOX_API_KEY", NINOX_EMULATOR_TOKEN if NINOX_EMBEDDED else None
)
NINOX_TEAM_ID: str = cfg.text("NINOX_TEAM_ID", "demo")
NINOX_DATABASE_ID: str = cfg.text("NINOX_DATABASE_ID", "grants")
# The workspace API's workspace id (12 letters and digits) and module name; the embedded
# emulator serves its demo as workspace "demo", module "grants".
NINOX_WORKSPACE_ID: str | None = cfg.text("NINOX_WORKSPACE_ID", None) or (
    "demo" if NINOX_EMBEDDED else None
)
NINOX_MODULE: str | None = cfg.text("NINOX_MODULE", None) or ("grants" if NINOX_EMBEDDED else None)
if NINOX_API == "workspace" and not (NINOX_WORKSPACE_ID and NINOX_MODULE):
    raise ImproperlyConfigured(
        "NINOX_API=workspace needs NINOX_WORKSPACE_ID and NINOX_MODULE (where the grants live)."
    )
# Workspace API (no incremental read): minutes between full reads of each table. An idle
# hour costs the schema plus 60 / this share of a full read (the health page shows it).
NINOX_WORKSPACE_FULL_READ_MINUTES: int = cfg.integer(
    "NINOX_WORKSPACE_FULL_READ_MINUTES", 60, minimum=5, maximum=7 * 24 * 60
)
NINOX_MONTHLY_QUOTA: int = cfg.integer("NINOX_MONTHLY_QUOTA", 100000, minimum=1, maximum=10**9)
NINOX_TIMEOUT_SECONDS: int = cfg.integer("NINOX_TIMEOUT_SECONDS", 10, minimum=1, maximum=120)
# Ninox allows few parallel calls per key: every process of the portal shares this limit.
NINOX_PARALLEL_CALLS: int = cfg.integer("NINOX_PARALLEL_CALLS", 1, minimum=1, maximum=16)
NINOX_LIMITER_TIMEOUT_SECONDS: int = cfg.integer(
    "NINOX_LIMITER_TIMEOUT_SECONDS", 15, minimum=1, maximum=300
)
# With Redis, a crashed holder's slot frees after this; keep it above NINOX_TIMEOUT_SECONDS.
NINOX_LIMITER_LEASE_SECONDS: int = cfg.integer(
    "NINOX_LIMITER_LEASE_SECONDS", 60, minimum=NINOX_TIMEOUT_SECONDS + 1, maximum=3600
)
# Decisions arriving together share one Ninox refresh that started after each arrived.
NINOX_COALESCE_REFRESH: bool = cfg.boolean("NINOX_COALESCE_REFRESH", True)
# Past this share of the monthly quota, background syncs and probes pause; decisions go on.
NINOX_QUOTA_PAUSE_SHARE: Decimal = cfg.decimal(
    "NINOX_QUOTA_PAUSE_SHARE", Decimal("0.90"), minimum=Decimal("0.01")
)
# The portal's names for what it reads in Ninox → the database's tables, fields and types.
# The defaults match the emulator's demo database; `manage.py ninox_check` verifies them.
NINOX_SCHEMA = {
    "lodges": {
        "table": "Lodges",
        "fields": {
            "number": ("Number", "number"),
            "name": ("Name", "text"),
            "district": ("District", "text"),
            "city": ("City", "text"),
            "secretary": ("Secretary", "text"),
            "secretary_email": ("Secretary Email", "email"),
            "active": ("Active", "boolean"),
        },
    },
    "grants": {
        "table": "Grants",
        "fields": {
            "lodge": ("Lodge", "reference"),
            "reference": ("Reference", "text"),
            "amount": ("Amount", "number"),
            "grant_date": ("Grant Date", "date"),
            "charity": ("Charity", "text"),
            "purpose": ("Purpose", "text"),
            "status": ("Status", "choice"),
            "paid_at": ("Paid At", "datetime"),
            "payment": ("Payment", "text"),
        },
    },
}
# Another database's names: a JSON object of the same shape, merged table by table.
NINOX_SCHEMA.update(cfg.json_object("NINOX_SCHEMA_JSON", {}))
if not NINOX_API_KEY:
    raise ImproperlyConfigured("NINOX_API_KEY is required when NINOX_BASE_URL is set.")

# --- Stripe -------------------------------------------------------------------
STRIPE_SECRET_KEY: str | None = cfg.text("STRIPE_SECRET_KEY", None)
STRIPE_WEBHOOK_SECRET: str | None = cfg.text("STRIPE_WEBHOOK_SECRET", None)
if STRIPE_SECRET_KEY and not STRIPE_SECRET_KEY.startswith(("sk_", "rk_")):
    raise ImproperlyConfigured("STRIPE_SECRET_KEY is malformed: a Stripe key starting sk_ or rk_.")
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET:
    raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set.")

# --- Grant rules (defaults; admins edit the rules in force later) --------------
GRANT_ANNUAL_CAP: Decimal = cfg.money("GRANT_ANNUAL_CAP", Decimal("4000.00"))
GRANT_FISCAL_YEAR_START: tuple[int, int] = cfg.month_day("GRANT_FISCAL_YEAR_START", (5, 1))
GRANT_MATCH_RATIO: Decimal = cfg.decimal("GRANT_MATCH_RATIO", Decimal("1"), minimum=Decimal("0.01"))
GRANT_AUTO_APPROVE_LIMIT: Decimal | None = cfg.money("GRANT_AUTO_APPROVE_LIMIT", None)
GRANT_PAYMENT_LINK_DAYS: int = cfg.integer("GRANT_PAYMENT_LINK_DAYS", 30, minimum=1, maximum=365)
GRANT_VENDOR_EMAIL: str = cfg.email("GRANT_VENDOR_EMAIL", "vendor@example.org")
GRANT_FINANCE_EMAIL: str = cfg.email("GRANT_FINANCE_EMAIL", "finance@example.org")
GRANT_DIGEST_HOUR: int = cfg.integer("GRANT_DIGEST_HOUR", 7, minimum=0, maximum=23)

# --- Public intake limits ------------------------------------------------------
# Accepted applications per hour from one address; refused (invalid) posts have their own,
# higher limit, so junk cannot close the form for a lodge behind the same address.
PORTAL_APPLY_RATE_PER_HOUR: int = cfg.integer(
    "PORTAL_APPLY_RATE_PER_HOUR", 20, minimum=1, maximum=100000
)
PORTAL_APPLY_INVALID_RATE_PER_HOUR: int = cfg.integer(
    "PORTAL_APPLY_INVALID_RATE_PER_HOUR", 100, minimum=1, maximum=100000
)
# Lodge lookups per hour from one address (the apply form's name and what the lodge has left).
PORTAL_LODGE_LOOKUP_RATE_PER_HOUR: int = cfg.integer(
    "PORTAL_LODGE_LOOKUP_RATE_PER_HOUR", 120, minimum=1, maximum=100000
)
# Failed API authentications per hour from one address (the per-token limit is below).
PORTAL_API_AUTH_FAILURES_PER_HOUR: int = cfg.integer(
    "PORTAL_API_AUTH_FAILURES_PER_HOUR", 30, minimum=1, maximum=100000
)
PORTAL_API_RATE_PER_MINUTE: int = cfg.integer(
    "PORTAL_API_RATE_PER_MINUTE", 600, minimum=1, maximum=1000000
)

# --- Demo ---------------------------------------------------------------------
DEMO_PASSWORD: str | None = cfg.text("DEMO_PASSWORD", None)

# --- Logging and error reports ------------------------------------------------
# Settings whose values must never appear in an error report.
SECRET_SETTING_NAMES = (
    "SECRET_KEY",
    "NINOX_API_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "EMAIL_HOST_PASSWORD",
    "DEMO_PASSWORD",
)
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.lib.secrets.RedactingExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "portal.lib.secrets.RedactingExceptionReporter"
ADMINS = [("Admin", a) for a in cfg.csv_list("PORTAL_ERROR_EMAILS", [])]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "portal.lib.secrets.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": cfg.text("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {
            "handlers": ["console", "mail_admins"],
            "level": "ERROR",
            "propagate": False,
        },
        "httpx": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failures are in the audit log, without the noise
        "httpcore": {"level": "WARNING"},
    },
}

CSRF_FAILURE_VIEW = "portal.views.errors.csrf_failure"
