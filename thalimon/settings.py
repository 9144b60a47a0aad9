"""ThaliMon settings: one file, read from the environment (django-environ).

| variable            | default                                   |
|---------------------|-------------------------------------------|
| DEBUG               | off                                       |
| SECRET_KEY          | required when DEBUG is off                |
| ALLOWED_HOSTS       | localhost,127.0.0.1 (comma-separated)     |
| DATABASE_URL        | sqlite:///<project>/var/db.sqlite3        |
| REDIS_URL           | empty: Celery on the filesystem transport |
| CELERY_BROKER_URL   | REDIS_URL                                 |
| EMAIL_URL           | consolemail:// (smtp://user:pw@host:port) |
| DEFAULT_FROM_EMAIL  | thalimon@localhost                        |
| TIME_ZONE           | UTC (the clinic's time zone)              |
| SECURE_SSL_REDIRECT | on when DEBUG is off                      |
| CACHE_URL           | locmemcache:// (redis://host:6379/1); the |
|                     | demo: a file cache under var/cache        |
| UPLOAD_STORAGE      | filesystem (MEDIA_ROOT) or s3 (S3_BUCKET, |
|                     | S3_ENDPOINT_URL, S3_REGION, S3_PREFIX,    |
|                     | S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY)   |
| MEDIA_ROOT          | <project>/var/media                       |
| COLLECTED_STATIC    | on when DEBUG is off (the demo sets it):  |
|                     | hashed, compressed collectstatic files    |
| TECHNICAL_ERROR_PAGES | off: friendly error pages with DEBUG on |
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of a demo: SQLite file, Celery queue, beat schedule, file cache, uploads
# (THALIMON_VAR_DIR moves it, e.g. for a test that runs the demo's processes).
VAR_DIR = Path(os.environ.get("THALIMON_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
# A local, git-ignored .env, if a developer writes one, lets manage.py run without
# exporting variables (make writes none: the demo and the tests set DEBUG=1 for their
# own processes). Real environment variables always win; images never contain it.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# With DEBUG on, Django's technical error pages instead of the friendly ones (thalimon/errors.py).
TECHNICAL_ERROR_PAGES = env.bool("TECHNICAL_ERROR_PAGES", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-only-for-debug-mode")
else:
    # Required: refuse to start a production server without a secret key.
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
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
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "csp",
    "sites",
    "patients",
    "visits",
    "therapy",
    "safety",
    "reports",
    "outbox",
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language (Accept-Language) for every page; after the session, before
    # CommonMiddleware (Django's order). UserLanguageMiddleware below puts the signed-in user's saved one.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in user's saved language (accounts.Preference), else the browser's.
    "accounts.middleware.UserLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Every page requires login unless a view is explicitly marked otherwise.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Authenticated pages and downloads: Cache-Control no-store, private.
    "thalimon.protections.NoStoreMiddleware",
    # A second factor (TOTP) before any page, where the settings require one.
    "thalimon.twofactor.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Friendly 400/404/500 pages with DEBUG on too (thalimon/errors.py).
    "thalimon.errors.FriendlyErrorPagesMiddleware",
    # Last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "thalimon.urls"

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
                "thalimon.access.roles_context",
                "safety.context_processors.due_reminders",
                "safety.context_processors.urgent_banner",
                "patients.context_processors.patient_banner",
            ],
            "libraries": {"clinical": "thalimon.templatetags.clinical"},
            # ``said`` (a rule's reason) and ``day`` (a day) in the reader's language, on
            # every page, PDF and email (issue 17).
            "builtins": ["thalimon.templatetags.clinical"],
        },
    },
]

WSGI_APPLICATION = "thalimon.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: a web or worker thread keeps its database connection for
# CONN_MAX_AGE seconds (PostgreSQL: 60 by default, no connection set-up per request; SQLite: 0,
# opening a file costs nothing), checked before a request reuses it (CONN_HEALTH_CHECKS): a
# connection the server dropped meanwhile (restart, failover, idle timeout) is replaced.
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "CONN_MAX_AGE", default=0 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo's web server and Celery worker share the SQLite file.
    # WAL: the pages keep reading while the worker writes (an import's long transaction).
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
    # The covering (INCLUDE) columns of two PostgreSQL indexes are not for SQLite: the
    # demo builds the same indexes without them.
    _SQLITE_SILENCED = ["models.W040"]
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out user before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with a user's permissions read in one query (same result).
    "thalimon.auth_backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "patients:list"
LOGOUT_REDIRECT_URL = "login"

# Failed logins: after 5 failures an account is locked (from any address), and
# so is one browser (address + user agent) trying many accounts, for an hour or
# until an admin resets it (`manage.py axes_reset_username USER`). Locking a
# whole address would lock every desk of a clinic behind one NAT.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
# Per user name only: five failures with a made-up name never lock a colleague out of the
# same clinic PC, and `manage.py axes_reset_username NAME` lifts a lock.
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 warns that this lockout leaves out the address: that is the point (a shared
# clinic PC must not lock a colleague out); each account still locks after 5 failures.
SILENCED_SYSTEM_CHECKS = ["axes.W006", *globals().get("_SQLITE_SILENCED", [])]

# --- Two-factor sign-in (TOTP, django-otp) ----------------------------------------
# Required for every role when DEBUG is off (production); the demo and the tests run
# with DEBUG on and keep it off unless TWO_FACTOR_REQUIRED=1. A role may be exempted
# (e.g. TWO_FACTOR_EXEMPT_ROLES="Clinic lead"), never silently: the sign-in page says so.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=not DEBUG)
TWO_FACTOR_EXEMPT_ROLES = env.list("TWO_FACTOR_EXEMPT_ROLES", default=[])
OTP_TOTP_ISSUER = "ThaliMon"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False  # no usernames in the logs beyond what axes must write

# Sessions end after 30 minutes without a request.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Security headers (strict when DEBUG is off) ----------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): no inline scripts, nothing from other hosts.
# Styles allow inline attributes: Bootstrap utilities and Plotly's SVG styling use them.
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "en-gb"
# English and Simplified Chinese (issue 17); catalogues in locale/, compiled at install
# (compilemessages: make, .ci/run, the Dockerfile; no .mo committed).
LANGUAGES = [("en-gb", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
# How each language writes a day on pages (thalimon/formats/<lang>/formats.py; the
# ``day`` filter); exports, datasheets and JSON always write ISO 8601.
FORMAT_MODULE_PATH = ["thalimon.formats"]

# --- Static files: everything local, served by whitenoise (no CDN) ---------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Collected: `collectstatic` has written hashed, gzip- and brotli-compressed copies to
# STATIC_ROOT and whitenoise serves those (thalimon/staticstorage.py). Always with DEBUG
# off; the demo asks for it with DEBUG on (scripts/demo-serve.sh collects first). Otherwise
# (the tests, a development server) the source files are served as they are, uncompressed.
COLLECTED_STATIC = not DEBUG or env.bool("COLLECTED_STATIC", default=False)
WHITENOISE_USE_FINDERS = not COLLECTED_STATIC
WHITENOISE_AUTOREFRESH = not COLLECTED_STATIC
# Uploaded datasheets: web and worker reach them only through Django's storage API.
# One host: a folder both share (MEDIA_ROOT; a named volume in docker-compose.yml).
# Several hosts: UPLOAD_STORAGE=s3 and an S3-compatible bucket (django-storages).
UPLOAD_STORAGE = env.str("UPLOAD_STORAGE", default="filesystem")
if UPLOAD_STORAGE == "s3":
    _UPLOADS = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default=None),
            "region_name": env.str("S3_REGION", default=None),
            "access_key": env.str("S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default=None),
            "location": env.str("S3_PREFIX", default="thalimon"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif UPLOAD_STORAGE == "filesystem":
    _UPLOADS = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured("UPLOAD_STORAGE: choose filesystem or s3.")
STORAGES = {
    "default": _UPLOADS,
    "staticfiles": {
        "BACKEND": (
            "thalimon.staticstorage.CollectedStaticFilesStorage"
            if COLLECTED_STATIC
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Per-process cache (the cohort report page; keys carry a data fingerprint, never stale).
# One cache shared by every web worker in production (CACHE_URL=redis://host:6379/1):
# the cohort report is computed once for all of them. Per process by default.
# The demo's web server and worker share a file cache under var/ (an import's progress is
# written there by the worker and read by the web).
_DEFAULT_CACHE = f"filecache://{VAR_DIR / 'cache'}" if env.bool("THALIMON_DEMO", default=False) else "locmemcache://thalimon"


def cache_config(url):
    """A CACHE_URL as Django's cache settings. Redis (django-environ picks Django's own
    RedisCache) gets thalimon.cache.FallbackRedisCache: when Redis is down, pages are served
    from a per-process cache and the outage is logged once; short socket timeouts so that an
    unreachable server costs a second, not a page."""
    config = env.cache_url_config(url)
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        config["BACKEND"] = "thalimon.cache.FallbackRedisCache"
        config["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 5, **config.get("OPTIONS", {})}
    return config


CACHES = {"default": cache_config(env.str("CACHE_URL", default=_DEFAULT_CACHE))}

# --- Email ------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="thalimon@localhost")

# --- Celery -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL) or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        # The exchange tables (kombu's default is ./control, in whatever folder the
        # process started from).
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
# Task results: nothing reads them, so none are stored (a result store that is down
# must not fail the task that would write there); set CELERY_RESULT_BACKEND to keep them.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
# A broker that is down is noticed in seconds, not retried for long inside a request:
# the web only tries once to hand queued work over (outbox); the relay retries it.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A task of a worker that died unacknowledged is handed out again after this long
    # (longer than the longest task's hard limit, 35 minutes, so none runs twice at once).
    # A publish tries the connection once (no 2-second retries in a request).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 40 * 60, "socket_connect_timeout": 2, "socket_timeout": 10,
        "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The beat schedule, declared in one place (docs/architecture.md). The demo also
# rescans every few minutes so that reminders appear without waiting a night.
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "scan-reminders-nightly": {"task": "safety.tasks.scan_all_reminders", "schedule": crontab(hour=2, minute=0)},
    "nurse-digest-daily": {"task": "safety.tasks.send_daily_digests", "schedule": crontab(hour=7, minute=0)},
    # Today's digests that failed (SMTP down) or were cut off by a crash go again, with backoff.
    "digest-retry": {"task": "safety.tasks.retry_failed_digests", "schedule": 10 * 60},
    # Import jobs whose worker died are run again (or failed); old uploads deleted (reports.actions).
    "import-jobs-tidy": {"task": "reports.tasks.tidy_import_jobs", "schedule": 5 * 60},
    # Queued work (outbox) the web could not hand to the broker at commit goes now.
    "outbox-relay": {"task": "outbox.tasks.relay_outbox", "schedule": env.float("OUTBOX_RELAY_SECONDS", default=10.0)},
    # Urgent emails not handed to the worker at commit (a broker fault) go out within minutes.
    "urgent-notifications-sweep": {"task": "safety.tasks.send_pending_urgent_notifications", "schedule": 5 * 60},
}
if env.int("REMINDER_SCAN_MINUTES", default=0):
    CELERY_BEAT_SCHEDULE["scan-reminders-frequent"] = {
        "task": "safety.tasks.scan_all_reminders",
        "schedule": env.int("REMINDER_SCAN_MINUTES") * 60,
    }
# The report page shows the cohort report computed less than this long ago while clinical
# data keeps changing (with its time and a "recompute now"), not a recomputation per view.
THALIMON_REPORT_RECENT_SECONDS = env.int("THALIMON_REPORT_RECENT_SECONDS", default=300)
THALIMON_UPLOAD_RETENTION_DAYS = env.int("THALIMON_UPLOAD_RETENTION_DAYS", default=30)
# The nightly scan is fanned out: one Celery task per chunk of this many patients
# (safety.fanout). The daily digest waits for the day's scan to finish, at most this long
# after it fell due; then it goes with the reminders stored so far (and says so in the log).
THALIMON_SCAN_CHUNK_PATIENTS = env.int("THALIMON_SCAN_CHUNK_PATIENTS", default=2000)
THALIMON_DIGEST_WAIT_MINUTES = env.int("THALIMON_DIGEST_WAIT_MINUTES", default=120)
THALIMON_MAX_DATASHEET_BYTES = env.int("THALIMON_MAX_DATASHEET_BYTES", default=200 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
THALIMON_BASE_URL = env.str("THALIMON_BASE_URL", default="http://127.0.0.1:8000")

# --- Logging: no patient data beyond the patient code ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"one_line_forbidden": {"()": "thalimon.protections.OneLineForbidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["one_line_forbidden"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Clinical rule settings ---------------------------------------------------
# Configurable thresholds of clinical-rules.md live in one place: THALIMON_RULES
# (see thalimon/rules_config.py). Overrides come from settings only, except the R9.1
# prescription programme, which a deployment chooses from the environment:
# THALIMON_PRESCRIPTION_PROGRAMME=eu_ppp (default) or us_rems.
THALIMON_RULES = {}
_programme = env.str("THALIMON_PRESCRIPTION_PROGRAMME", default="eu_ppp")
if _programme not in ("eu_ppp", "us_rems"):  # refused at start-up, never at the first prescription
    raise ImproperlyConfigured(f"THALIMON_PRESCRIPTION_PROGRAMME must be eu_ppp or us_rems, got {_programme!r}")
if _programme != "eu_ppp":
    THALIMON_RULES["prescription_programme"] = _programme
THALIMON_DEMO = env.bool("THALIMON_DEMO", default=False)
