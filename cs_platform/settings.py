"""Settings come from environment variables only (12-factor).

With nothing set, a fresh checkout runs on embedded parts: SQLite, kombu's filesystem broker,
local-memory cache and the console email backend. `DATABASE_URL`, `REDIS_URL`, `SECRET_KEY`,
`ALLOWED_HOSTS` and `EMAIL_URL` switch to production parts; docs/configuration.md lists them all.
"""

import datetime as dt
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]", "testserver"]),
)

DEBUG = env("DEBUG")
# The default key is only good for local development; production sets SECRET_KEY.
SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-key-change-me-in-production-0123456789abcdef")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_celery_beat",
    "axes",
    "tenancy",
    "accounts",
    "health",
    "playbooks",
    "segments",
    "integrations",
]

MIDDLEWARE = [
    "tenancy.observability.RequestIdMiddleware",
    # A request that failed because the database is down answers 503, not 500 (tenancy/outage.py).
    "tenancy.outage.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenancy.middleware.WorkspaceMiddleware",
    # Last: turns a login attempt over the limit into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cs_platform.urls"
WSGI_APPLICATION = "cs_platform.wsgi.application"
ASGI_APPLICATION = "cs_platform.asgi.application"

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
                "tenancy.context_processors.workspace",
                "health.context_processors.alerts",
                "playbooks.context_processors.tasks",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default; DATABASE_URL=postgres://… for PostgreSQL. The SQLite test database is a
# file (not :memory:) so that a real Celery worker thread or process can see the test data.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    _db.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    _db["CONN_HEALTH_CHECKS"] = True
    # Behind pgbouncer in transaction mode a cursor cannot outlive its transaction (docs/scaling.md).
    _db["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_DISABLE_SERVER_SIDE_CURSORS", default=False)
if _db["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, plus the current workspace carried into every transaction for the
    # row-level security policies (tenancy/rls.py).
    _db["ENGINE"] = "tenancy.backends.postgresql"
# The role that owns the tables and runs `migrate`; DATABASE_URL is then the application role,
# which row-level security holds to its workspace (tenancy/db_roles.py). Unset: one role does both.
DATABASE_OWNER = env.db("DATABASE_OWNER_URL") if env.str("DATABASE_OWNER_URL", default="") else None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tenancy.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache ----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Fails soft (cs_platform/cache.py): with Redis down a read misses and a write is dropped, so
    # pages keep serving; short socket timeouts keep an unreachable Redis from stalling requests.
    CACHES = {
        "default": {
            "BACKEND": "cs_platform.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
# Redis when REDIS_URL is set; otherwise kombu's filesystem transport, which needs no server:
# a real worker and a real beat exchange real messages through files under var/broker.
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    (BROKER_DIR / "processed").mkdir(exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=CELERY_BROKER_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Idempotent tasks only: a task is acknowledged after it ran, and re-queued if its worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Workers log through LOGGING like the web process (request = task id, workspace id on each line).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Time limits stay well below the broker's visibility timeout (3600 s) so a slow task is killed
# before Redis hands it to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = 1500
CELERY_TASK_TIME_LIMIT = 1800
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
HEARTBEAT_INTERVAL_SECONDS = env.int("HEARTBEAT_INTERVAL_SECONDS", default=60)
# The hour (in CELERY_TIMEZONE, UTC) the daily digest emails go out.
DIGEST_HOUR = env.int("DIGEST_HOUR", default=7)
HEALTH_RESCORE_INTERVAL_SECONDS = env.int("HEALTH_RESCORE_INTERVAL_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE = {
    "health-full-rescore": {
        # Fans out one rescore per workspace; stale entries expire instead of piling up.
        "task": "tenancy.tasks.fan_out",
        "args": ["health.tasks.rescore_workspace"],
        "schedule": HEALTH_RESCORE_INTERVAL_SECONDS,
        "options": {"expires": HEALTH_RESCORE_INTERVAL_SECONDS},
    },
    "playbooks-renewal-runs": {
        # Once a day, per workspace: "renewal within N days" playbooks (one run per renewal date).
        "task": "tenancy.tasks.fan_out",
        "args": ["playbooks.tasks.start_renewal_runs"],
        "schedule": 24 * 3600,
        "options": {"expires": 12 * 3600},
    },
    "playbooks-daily-digest": {
        # Each morning, per workspace: every CSM's email of new alerts and tasks due.
        "task": "tenancy.tasks.fan_out",
        "args": ["playbooks.tasks.send_digests"],
        "schedule": crontab(hour=DIGEST_HOUR, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "platform-heartbeat": {
        "task": "tenancy.tasks.heartbeat",
        "schedule": HEARTBEAT_INTERVAL_SECONDS,
        # A backlog of heartbeats is worthless: an unconsumed one expires.
        "options": {"expires": HEARTBEAT_INTERVAL_SECONDS},
    },
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cs-platform@localhost")
# Where people reach the product: the links in emails (digests) are built on it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "integrations.problems.problem_exception_handler",
}

# Partner API limits (integrations/limits.py, docs/api.md).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=10 * 1024 * 1024)
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=600)

# Prometheus scrapes /metrics with `Authorization: Bearer <METRICS_TOKEN>` (integrations/metrics.py).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Security (production values come from the environment) --------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): no inline or remote script anywhere; pages keep their
# behaviour in static/js. Inline style attributes stay allowed (bar widths, the API reference).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one email from one
# address, that pair is locked out for AXES_COOLOFF_MINUTES. Unknown and known emails count
# alike and get the same responses, so the login form does not tell which emails exist.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login form's email field keeps Django's name
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "tenancy/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]  # behind a proxy: set from its header
AXES_VERBOSE = False

# Every line carries the request (or task) id and the workspace id; LOG_FORMAT=json for one JSON
# object per line (tenancy/observability.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "tenancy.observability.LogContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s ws=%(workspace_id)s] %(message)s"
        },
        "json": {"()": "tenancy.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain"),
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
