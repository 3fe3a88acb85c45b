"""Confiance settings: one module, configured by environment variables (see .env.example)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from confiance.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CONFIANCE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# The secret key comes from SECRET_KEY, else from the local file `make` generates once
# (var/secret_key, git-ignored). Without DEBUG there is no fallback.
SECRET_KEY = env_str("SECRET_KEY")
_secret_file = Path(env_str("SECRET_KEY_FILE", str(VAR_DIR / "secret_key")))
if not SECRET_KEY and _secret_file.exists():
    SECRET_KEY = _secret_file.read_text(encoding="utf-8").strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set and var/secret_key does not exist: run `make secret` "
            "or set SECRET_KEY (50+ random characters)."
        )
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 - DEBUG only
if not DEBUG and (len(SECRET_KEY) < 40 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "SECRET_KEY is too short or a placeholder; use 50+ random characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public address, for the links people receive (invitations, e-mails, calendars). Required
# to serve without DEBUG: the server refuses to start without it (confiance/core/startup.py).
# In development, links shown in a page follow the request's host instead.
SITE_URL_CONFIGURED = bool(env_str("SITE_URL"))
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"SITE_URL={SITE_URL!r} must start with http:// or https://, e.g. https://confiance.example.com"
    )

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_htmx",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "confiance.core",
    "confiance.engagements",
    "confiance.consumption",
    "confiance.followup",
    "confiance.problems",
    "confiance.lessons",
    "confiance.closure",
    "confiance.pulse",
    "confiance.trust",
    "confiance.webhooks",
    "confiance.emergence",
    "confiance.alignment",
    "confiance.ledger",
    "confiance.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "confiance.api.middleware.ApiMiddleware",
]

ROOT_URLCONF = "confiance.urls"
WSGI_APPLICATION = "confiance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "confiance" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "confiance.core.context_processors.navigation",
            ],
            # Links rendered once per process (the module says what its key holds); the
            # templates load `i18n_remembered` for constant translations likewise.
            "builtins": ["confiance.core.templatetags.url_remembered"],
        },
    }
]

# SQLite (WAL mode) by default, zero set-up; PostgreSQL when DATABASE_URL says so.
# Connections are reused across requests (a new PostgreSQL connection costs ~20 ms); with
# DATABASE_POOL=true, PostgreSQL connections come from psycopg's pool instead (Django 5.1+).
DATABASE_POOL = env_bool("DATABASE_POOL", False)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'confiance.sqlite3'}"),
        conn_max_age=0 if DATABASE_POOL else env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 10),
        "timeout": 10,
    }
# On PostgreSQL, parameters are bound by the server and a statement run a few times on a connection
# is prepared there: it is then parsed and planned once per connection instead of on every run
# (the planning of a page's ten queries cost more than running them). A pooler that cannot keep
# prepared statements (PgBouncer in transaction mode before 1.21, or without
# max_prepared_statements) needs DATABASE_PREPARED_STATEMENTS=false.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True,
        prepare_threshold=env_int("DATABASE_PREPARE_THRESHOLD", 2),
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # Tests run on a file too, not SQLite's shared-cache memory database, whose table locks fail
    # at once instead of waiting: concurrency tests must meet the locking production meets.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions read from the shared cache, written through to the database: no query per request.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed log-ins free of delay per account and per client address; each further failure doubles
# the wait before the next attempt (2 s, 4 s, ... 15 min). An address gets more: people share them.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 50)
# Password-reset e-mails per address an hour (four times as many per client address).
PASSWORD_RESET_PER_HOUR = env_int("PASSWORD_RESET_PER_HOUR", 3)
# Invitations one workspace may send an hour.
INVITATIONS_PER_HOUR = env_int("INVITATIONS_PER_HOUR", 50)
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 7)

# Files attached to opportunity discussions: outside the static and web roots, served only by a
# view that checks access; size limited (the upload itself is capped by DATA_UPLOAD_MAX_*).
EMERGENCE_ATTACHMENT_DIR = env_str("EMERGENCE_ATTACHMENT_DIR", str(VAR_DIR / "attachments"))
EMERGENCE_ATTACHMENT_MAX_BYTES = env_int("EMERGENCE_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
# Files attached to problems (both sides): the same rules, their own folder.
PROBLEM_ATTACHMENT_DIR = env_str("PROBLEM_ATTACHMENT_DIR", str(VAR_DIR / "problem-attachments"))
PROBLEM_ATTACHMENT_MAX_BYTES = env_int("PROBLEM_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)

# Ledger bundles of large logs, built by the task worker into files (docs/ledger.md): outside the
# web root, on a disk the web and task processes share; served only by views that check access.
LEDGER_BUNDLE_DIR = env_str("LEDGER_BUNDLE_DIR", str(VAR_DIR / "ledger-bundles"))
# A log of at most this many entries is streamed at once (a few seconds); larger ones are built.
LEDGER_BUNDLE_INLINE_MAX = env_int("LEDGER_BUNDLE_INLINE_MAX", 10_000)

LANGUAGE_CODE = "en"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "confiance" / "locale"]
# One date format per language everywhere (confiance/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["confiance.formats"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "confiance" / "static",
    # Front-end libraries come from npm (package.json), never copied into the repository.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/pico", BASE_DIR / "node_modules" / "@picocss" / "pico" / "css"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_STORAGE",
            "confiance.core.storage.StaticFilesStorage",
        )
    },
}

# Files not collected yet are served from where they live (app static, node_modules), so a
# forgotten `collectstatic` never turns a page into a 500; `confiance serve` collects them.
WHITENOISE_USE_FINDERS = True

# A cache shared by every process (web workers, task worker): Redis where there is one, else
# files in var/. Login throttling and import progress rely on that sharing.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("REDIS_URL")}
        if env_str("REDIS_URL")
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# Background tasks: the database backend by default, so `make run` needs no broker.
TASKS = {
    "default": {
        # The database backend, retrying an enqueue that meets a locked SQLite (core/taskqueue.py).
        "BACKEND": env_str("TASKS_BACKEND", "confiance.core.taskqueue.DatabaseBackend"),
    }
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Confiance <noreply@confiance.localhost>")

# Security: Django's protections stay on; the policy below forbids inline scripts and styles.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# In production behind a TLS-terminating proxy (docs/deploy.md): redirect to HTTPS, HSTS, and trust
# the proxy's X-Forwarded-Proto. Off by default so `make run` works over plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.tasks": {"level": "INFO"}},
}

# API: requests per token and period ("600/min"; "" for no limit), and how long a POST's
# Idempotency-Key is remembered.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "600/min")
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)

# Webhooks: outgoing requests time out after this many seconds and never reach private,
# loopback, link-local or reserved addresses unless allowed (a receiver on the same machine or
# network, in development or tests). Failed deliveries are retried after these delays (seconds,
# exponential, jitter added); an endpoint is disabled after this many failed deliveries in a row.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 15)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
# Ledger witnesses are named by either side: the server posts checkpoints to them under the
# same rule (no private, loopback or link-local address unless allowed).
WITNESS_ALLOW_PRIVATE_ADDRESSES = env_bool("WITNESS_ALLOW_PRIVATE_ADDRESSES", False)
WEBHOOK_RETRY_DELAYS = [
    int(seconds)
    for seconds in env_list(
        "WEBHOOK_RETRY_DELAYS", ["5", "300", "1800", "7200", "18000", "36000", "50400", "72000"]
    )
]
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 5)

# Backups: the task worker archives every workspace into this folder daily (empty: off), keeping
# the newest BACKUP_KEEP archives of each; `confiance backup` does it by hand.
BACKUP_DIR = env_str("BACKUP_DIR", "")
BACKUP_KEEP = env_int("BACKUP_KEEP", 7)
