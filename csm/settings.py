"""Settings for CSM, read from the environment (django-environ).

With no environment variables the app runs embedded: an SQLite file under var/, Celery tasks run
in-process, email stays in the outbox (the managers' Outbox page) instead of being sent.
DATABASE_URL and REDIS_URL switch on PostgreSQL and Redis, EMAIL_URL on SMTP.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core --------------------------------------------------------------------------------------

DEV_SECRET_KEY = "dev-insecure-csm-secret-key-change-me-in-production-0123456789"
DEBUG = env.bool("DEBUG", default=False)
# PRODUCTION=true turns on the deploy checks below and refuses the development secret key.
PRODUCTION = env.bool("PRODUCTION", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if PRODUCTION and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a secret value when PRODUCTION=true.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    # The REST API's docs page: its templates and vendored Swagger UI files (no CDN).
    "ninja",
    "django_htmx",
    "template_partials",
    # The layers, from the ground up (README "Architecture"); a lower one never imports a higher.
    "csm.lib",
    "accounts",
    "feedback",
    "health",
    "csm.workflow",
    "csm.kpis",
    "csm.apps.ProjectConfig",
    "csm.webhooks",
    "csm.demo",
]

MIDDLEWARE = [
    # First, so nothing else sees a path with a NUL byte: it is a 404 (csm/lib/request_guards.py).
    "csm.lib.request_guards.RefuseNulInPathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A user's own language (profile) over the browser's: after the two above.
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csm.urls"
WSGI_APPLICATION = "csm.wsgi.application"

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
                "csm.lib.context_processors.app",
            ],
        },
    },
]
# Every form's markup comes from templates/django/forms/: field.html (label, widget, help text,
# errors naming their field) and div.html ({{ form }}), rendered by csm.lib.forms.FormRenderer.
FORM_RENDERER = "csm.lib.forms.FormRenderer"

# --- Database ----------------------------------------------------------------------------------

# The SQLite default exists so that a fresh checkout runs with nothing else installed.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'csm.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if "DATABASE_URL" not in os.environ:
        VAR_DIR.mkdir(exist_ok=True)  # a fresh checkout has no var/ yet
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL and a busy timeout let the dev server, the in-process tasks and tests share the file.
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # A kept connection the server dropped (restart, failover) is tested and replaced before a
    # request's first query, instead of failing that request with a 500.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation: it costs 70 ms to compile a page's 0.2 s query, which then runs
        # no faster. Pages are short queries; the nightly's long ones were measured without it.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and login ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one account, or
# from one address, that account or address is locked out for LOGIN_LOCKOUT_MINUTES (counted
# from its last failure), on the login page and the admin's alike. `manage.py axes_reset_username
# EMAIL` / `axes_reset_ip ADDRESS` / `axes_reset` unlock at once (docs/operations.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account, per address
# Both login forms post the email as "username"; to the throttle any case is one account.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "csm.lib.http.login_username"
AXES_CLIENT_IP_CALLABLE = "csm.lib.http.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# A success does not wipe the failures: from one address it would also wipe those counted
# against other accounts, letting an attacker with one login guess on for ever.
AXES_RESET_ON_SUCCESS = False
# Only failures are stored (no row per successful login), so the table stays small.
AXES_DISABLE_ACCESS_LOG = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time, language, money ---------------------------------------------------------------------

TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Each language's date formats (csm/formats/): 2026-11-28 in English, 2026年11月28日 in Chinese.
FORMAT_MODULE_PATH = ["csm.formats"]
# One currency per installation, shown with its symbol next to every amount.
CURRENCY_CODE = env.str("CURRENCY_CODE", default="USD").upper()
# The symbol of the usual currencies; another code shows as itself ("CHF 1,200").
CURRENCY_SYMBOLS = {"USD": "$", "CNY": "¥", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}
# Read directly: django-environ takes a value starting with "$" for a reference to a variable.
CURRENCY_SYMBOL = os.environ.get(
    "CURRENCY_SYMBOL", CURRENCY_SYMBOLS.get(CURRENCY_CODE, f"{CURRENCY_CODE} ")
)

# --- Static files ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

# --- Email -------------------------------------------------------------------------------------

# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587. Without it (the embedded
# default) nothing leaves the machine and nothing is printed: Django's dummy backend takes each
# email, and the outbox table keeps it for the managers' Outbox page (Setup → Outbox).
vars().update(env.email_url("EMAIL_URL", default="dummymail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="csm@localhost")

# --- Celery ------------------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
# (memory://localhost/ rather than memory://: kombu warns "No hostname was supplied" otherwise.)
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
# Without a broker the tasks run in-process, so the embedded default needs no worker.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A publish attempt must not hang a web request when Redis is down.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "socket_timeout": 2}

# The cache holds only the API's rate-limit counters: in Redis when there is one (shared by every
# web process), else in each process. Code using it must keep working when it is down.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

# --- Domain rules ------------------------------------------------------------------------------

# Tier rule (DESIGN §4): A if strategic or MRR >= TIER_A_MIN_MRR, B if >= TIER_B_MIN_MRR, else C.
TIER_A_MIN_MRR = Decimal(env.str("TIER_A_MIN_MRR", default="2000"))
TIER_B_MIN_MRR = Decimal(env.str("TIER_B_MIN_MRR", default="500"))

# Usage events: raw events are kept this many days (the health window reads the last 30, so at
# least 31), daily rollups for ever. Events may arrive this many days late and still be counted.
HEALTH_EVENT_RETENTION_DAYS = max(31, env.int("HEALTH_EVENT_RETENTION_DAYS", default=90))
HEALTH_LATE_EVENT_DAYS = env.int("HEALTH_LATE_EVENT_DAYS", default=1)
# The nightly run fills at most this many missed days before the requested one.
NIGHTLY_CATCH_UP_MAX_DAYS = env.int("NIGHTLY_CATCH_UP_MAX_DAYS", default=31)
# SQLite: a nightly lock row whose holder cannot be checked is taken over after this many hours
# (a dead holder's at once; PostgreSQL's advisory lock dies with its session: csm.nightly_lock).
NIGHTLY_LOCK_STALE_HOURS = env.int("NIGHTLY_LOCK_STALE_HOURS", default=6)
# Cadence (DESIGN §4): the CSM touches tier A accounts every 7 days and tier B every 14; tier C
# gets an automated usage-tips email every 14 days instead.
TOUCH_CADENCE_A_DAYS = env.int("TOUCH_CADENCE_A_DAYS", default=7)
TOUCH_CADENCE_B_DAYS = env.int("TOUCH_CADENCE_B_DAYS", default=14)
TIPS_EVERY_DAYS = env.int("TIPS_EVERY_DAYS", default=14)
# The ingest API's limits (DESIGN §5).
INGEST_MAX_EVENTS = 1000
INGEST_MAX_BYTES = 1024 * 1024
# Requests per API key and minute (fixed window, counted in the cache); 0 turns the limit off.
# 600 requests of 1,000 events is 10,000 events/s from one key.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
# Stripe webhooks (POST /hooks/stripe/): the endpoint's signing secrets (whsec_…), comma-separated
# while a rotation keeps the old one valid. Empty: the endpoint answers 503.
STRIPE_WEBHOOK_SECRET = env.list("STRIPE_WEBHOOK_SECRET", default=[])

# --- Surveys (feedback) ------------------------------------------------------------------------

# The address emailed links start with (no request is around when the nightly run sends them).
# Outbound webhooks (csm.webhooks): how long a receiver may take to answer one delivery.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# A survey link works this many days after it was sent (DESIGN §5: 30).
SURVEY_TOKEN_DAYS = env.int("SURVEY_TOKEN_DAYS", default=30)
# Scheduled and bulk sends never survey one email address more often than this, whatever survey.
SURVEY_MIN_INTERVAL_DAYS = env.int("SURVEY_MIN_INTERVAL_DAYS", default=30)
# Requests per client address and minute to each public page, the survey answer pages and the
# blueprint view (counted in the cache); 0 = off.
SURVEY_RATE_LIMIT_PER_MINUTE = env.int("SURVEY_RATE_LIMIT_PER_MINUTE", default=30)

# --- Security ----------------------------------------------------------------------------------

# How many reverse proxies (each appending to X-Forwarded-For) stand in front of the app: 0 when
# gunicorn faces the clients, 1 behind one nginx or load balancer. Login throttling and the public
# pages' rate limits count per client address (csm.lib.http.client_ip); a wrong number counts the
# proxy's address, or trusts an address the client made up.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy (django-csp), on every response: every asset is vendored, so nothing
# from another origin and no inline code. Scripts are files under static/ (data for them travels
# in json_script's script elements of type application/json, which are data, not code); no style
# attribute or element (htmx's own indicator style is switched off in base.html, its rule is in
# app.css). "data:" images are Pico's SVG icons in its CSS. tests/browser/test_csp.py fails on
# any violation on the main pages.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_forbidden": {"()": "csm.lib.log_filters.OneLineForbidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # Everything prints once, through the root's handler: Django's own console handler
        # (DEBUG only) would print every record of its loggers a second time.
        "django": {"handlers": [], "propagate": True},
        # A 403 logs one line, without the PermissionDenied traceback.
        "django.request": {"filters": ["one_line_forbidden"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
