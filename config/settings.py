"""Settings for the e-Open back office, read from the environment in one place.

With no environment at all the project runs on embedded defaults: SQLite and a
Celery broker on the local filesystem, so `make run` needs no server. Production
sets DATABASE_URL (PostgreSQL) and REDIS_URL (Celery broker and cache).
"""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime state of the embedded defaults (SQLite file, broker folders, uploads).
VAR_DIR = Path(os.environ.get("EOPEN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)
# pytest (8.2 and later) sets PYTEST_VERSION for the whole session.
TESTING = "PYTEST_VERSION" in os.environ
# The fallback key is for development only; `check --deploy` flags it, so production
# must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-development-only-key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "registry.apps.EOpenAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Its two tables record refresh tokens already used (registry.api.auth).
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    # The audit of staff changes (registry.audit): its entries are registry.AuditEntry.
    "auditlog",
    # The registry core first, then the apps that stand on it, each registering what it
    # adds to the core (roles, event kinds, figures, links) in its AppConfig.ready(), in
    # this order.
    "registry",
    "registry.central",
    "registry.appointments",
    "queues",
    "registry.deliveries",
    "complaints",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages in the language their user chose, else Indonesian; the API by Accept-Language.
    "registry.middleware.LanguageMiddleware",
    # After the locale, so its refusals are in the client's language.
    "registry.middleware.RequestGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The staff member and address of each audited change (registry.audit).
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "registry.middleware.OfficeTimezoneMiddleware",
    # Last, so it sees every failed login the views above produce.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of the admin's own templates (admin/base_site.html): the admin is the
        # first app, so no other app's templates folder can override them.
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (psycopg 3) in production; SQLite otherwise.
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        )
    }
    # DATABASE_POOLER=pgbouncer: DATABASE_URL names a PgBouncer in transaction pooling
    # mode, where each transaction may get another server connection, so nothing may
    # outlive a transaction on the server: no prepared statements (psycopg prepares a
    # query after 5 runs; PgBouncer 1.18 cannot route them; Django's default client-side
    # binding prepares nothing anyway), and no server-side cursors (`.iterator()` would
    # open a WITH HOLD cursor outside a transaction). The code takes no session-level
    # advisory lock, LISTEN or SET (set_config is transaction-local), and PgBouncer
    # keeps each client's TimeZone, which Django sets at connect.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#transaction-pooling-server-side-cursors
    # https://www.psycopg.org/psycopg3/docs/advanced/prepare.html#using-prepared-statements-with-pgbouncer
    DATABASE_POOLER = os.environ.get("DATABASE_POOLER", "").strip().lower()
    if DATABASE_POOLER == "pgbouncer":
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
    elif DATABASE_POOLER:
        raise ImproperlyConfigured(
            f"DATABASE_POOLER is {DATABASE_POOLER!r}; the only pooler known is "
            "'pgbouncer' (leave it unset for a direct connection).")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            # A file, not memory, so a Celery worker started by a test opens the same
            # database; one per test process, so parallel runs do not collide.
            "TEST": {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")},
            "OPTIONS": {
                # The web server, worker and beat share one file: WAL lets readers run
                # beside a writer, IMMEDIATE takes the write lock up front instead of
                # failing half-way, and the timeout waits for it instead of erroring.
                # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
# DATABASE_REPLICA_URL: a streaming replica of the primary; the dashboards, the monthly
# report and the lists' exports read from it (registry.replica), everything else and
# every write uses the primary. Tests point it at the primary (MIRROR).
if os.environ.get("DATABASE_URL") and os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["registry.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Redis -------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # django-redis keeps one client per connection pool (Django's own Redis backend
    # builds a new client, and its table of callbacks, for every command). The cache is
    # a speed-up, never a dependency: with IGNORE_EXCEPTIONS, when Redis cannot be
    # reached a read is a miss and a write is skipped, and the request goes on from the
    # database; the short socket timeouts keep a hung Redis from holding requests.
    # https://github.com/jazzband/django-redis#memcached-exceptions-behavior
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "eopen",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django-redis logs each error it ignores, with its traceback (the Redis host and port,
# never the URL's password), on "django_redis.cache"; LOGGING lets one through a minute.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# --- Authentication --------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out username or address is refused before any
    # password is checked. https://django-axes.readthedocs.io/en/latest/2_installation.html
    "axes.backends.AxesStandaloneBackend",
    "registry.auth.OfficeRoleBackend",
]
if TESTING:
    # Hashing demo passwords properly would dominate the suite's run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Lock a username *and* an address pair after 5 failures for 30 minutes: an office's
# counters share one public address, so locking by address alone would lock them all.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "registry.auth.lockout_response"
# Behind a proxy the address comes from X-Forwarded-For; set the number of proxies in
# front (AXES_PROXY_COUNT). With none, only the connection's own address counts: a header
# the client writes itself would let one client pass for many, and so escape the
# per-address limits (sign-in codes, staff lockouts). django-ipware reads it; the
# sign-in-code throttle uses the same address (registry.otp).
# https://django-axes.readthedocs.io/en/latest/4_configuration.html#configuring-reverse-proxies
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "0")) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
                                     if AXES_IPWARE_PROXY_COUNT else ["REMOTE_ADDR"])

# --- Internationalisation --------------------------------------------------
# Indonesian first, whatever the browser says (registry.middleware.LanguageMiddleware):
# a page is in English only for a user who chose it with the switch on every page, which
# posts to /i18n/setlang/; the API is in English for clients that ask with
# Accept-Language: en (API.md).
LANGUAGE_CODE = "id"
# Each language is named in itself, as language pickers do.
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
# The switch keeps the choice in Django's language cookie, per browser, for a year: an
# operator chooses once at their PC. No script reads it.
# https://docs.djangoproject.com/en/5.2/ref/settings/#language-cookie-age
LANGUAGE_COOKIE_AGE = int(timedelta(days=365).total_seconds())
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# One catalogue per app, so each app's text is translated next to its code. Listed
# most specific first: makemessages files a string under the first path whose folder
# holds the source file.
LOCALE_PATHS = [
    BASE_DIR / "registry" / "appointments" / "locale",
    BASE_DIR / "registry" / "deliveries" / "locale",
    BASE_DIR / "queues" / "locale",
    BASE_DIR / "complaints" / "locale",
    BASE_DIR / "registry" / "locale",
]
USE_I18N = True
USE_TZ = True
# Stored times are UTC; each office's own zone is activated per request and used
# for "today", slots, expiry and dispatch.
TIME_ZONE = "Asia/Jakarta"

# --- Static and media ------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploads (documents, delivery photos) are never served as public media: each is
# served by a view that checks the office first.
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not (DEBUG or TESTING)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
if DEBUG or TESTING:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- Security (production) -------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not (DEBUG or TESTING))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["registry.api.auth.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "registry.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, refusing over-deep nesting and infinite numbers (registry.api.parsers).
        "registry.api.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    # drf-spectacular's, plus the error answers, nullability and formats it cannot see.
    "DEFAULT_SCHEMA_CLASS": "registry.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "30"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "30"))),
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}
# Staff refresh tokens (the field team's phones) last one working day from the sign-in;
# rotation keeps that end. Residents' last JWT_REFRESH_DAYS from each rotation.
STAFF_REFRESH_HOURS = int(os.environ.get("STAFF_REFRESH_HOURS", "12"))
SPECTACULAR_SETTINGS = {
    "TITLE": "e-Open back office API",
    "DESCRIPTION": "The contract of the e-Open mobile app and the field team's phones.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Ids in paths (<int:pk>) are bigints; Django's lookups find nothing (404) above them.
    "PATH_CONVERTER_OVERRIDES": {"int": {"type": "integer", "minimum": 0,
                                         "maximum": 2**63 - 1}},
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI from the installed package, not a CDN: offices may be offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# One-time codes for residents: 6 digits, valid 5 minutes, 5 tries.
OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
# Per NIK and per phone: at most this many codes in the window, and one a minute.
OTP_MAX_PER_WINDOW = int(os.environ.get("OTP_MAX_PER_WINDOW", "5"))
OTP_WINDOW = timedelta(hours=1)
OTP_RESEND_INTERVAL = timedelta(seconds=int(os.environ.get("OTP_RESEND_SECONDS", "60")))
# Per client address more: an office's counters and a mobile carrier's customers share
# addresses (carrier-grade NAT), so a tight limit would lock out many at once.
OTP_MAX_PER_ADDRESS = int(os.environ.get("OTP_MAX_PER_ADDRESS", "30"))
# The desk's printed activation codes (registry.otp): single use, 5 wrong tries.
ACTIVATION_CODE_TTL = timedelta(days=int(os.environ.get("ACTIVATION_CODE_DAYS", "30")))
ACTIVATION_MAX_ATTEMPTS = 5
# How long sign-in records are kept (registry.otp.sign_in_records_purge): a code request
# (NIK, phone, address) a day, well past the throttle's window, to answer "who asked for
# my code"; a spent activation code 30 days, to answer "my printed code did not work".
OTP_RECORD_KEEP = timedelta(days=1)
ACTIVATION_RECORD_KEEP = timedelta(days=30)
IDEMPOTENCY_TTL = timedelta(hours=24)

# --- Celery ----------------------------------------------------------------
# Redis in production; the filesystem transport needs no server for `make run`.
# https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.filesystem.html
_broker_dir = Path(os.environ.get("CELERY_FS_BROKER_DIR", VAR_DIR / "broker"))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if TESTING and "CELERY_BROKER_URL" not in os.environ:
    # Tests assert what was queued; the few that run a real worker start it and point
    # both sides at a real broker through CELERY_BROKER_URL (tests/worker.py).
    CELERY_BROKER_URL = "memory://"
if CELERY_BROKER_URL.startswith("filesystem"):
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables; kombu's default is ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A task not acknowledged within this time is given to another worker; longer
    # than any task's hard time limit, so a slow task is not run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Tests that run a real worker give it a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_ENABLE_UTC = True
CELERY_TIMEZONE = "UTC"
# A task is acknowledged only when it finished, so a worker that dies mid-task
# leaves it to be run again; every task is idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if REDIS_URL:
    # Several nodes each run a beat; RedBeat keeps the schedule and each entry's last
    # run in Redis and lets only the holder of one Redis lock send. The holder renews the
    # lock on every tick (at most BEAT_MAX_LOOP_INTERVAL apart), so a beat that dies,
    # even by SIGKILL, leaves it to expire after REDBEAT_LOCK_TIMEOUT seconds, and a
    # waiting beat (which tries every BEAT_MAX_LOOP_INTERVAL) takes over with the last
    # runs the dead one recorded: the takeover is bounded by the sum of the two. A beat
    # that finds its lock gone (paused longer than the timeout) stops rather than send
    # beside the new holder. https://github.com/sibson/redbeat
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    # Set, so RedBeat does not fall back to the broker's transport options.
    CELERY_REDBEAT_REDIS_OPTIONS = {}
    CELERY_REDBEAT_KEY_PREFIX = os.environ.get("EOPEN_BEAT_KEY_PREFIX", "eopen:beat")
    CELERY_REDBEAT_LOCK_TIMEOUT = int(os.environ.get("EOPEN_BEAT_LOCK_SECONDS", "30"))
    CELERY_BEAT_MAX_LOOP_INTERVAL = int(os.environ.get("EOPEN_BEAT_LOOP_SECONDS", "5"))
# The schedule's intervals are divided by this: the several-nodes test
# (tests/nodes/test_several_nodes.py) runs a simulated hour in a minute with 60. Daily
# (crontab) entries keep the wall clock.
BEAT_TIME_SCALE = float(os.environ.get("EOPEN_BEAT_TIME_SCALE", "1"))


def _every(interval: timedelta) -> timedelta:
    return interval / BEAT_TIME_SCALE


# One static schedule. Every periodic task is an idempotent sweep over rows that
# carry their own due time, so a missed or doubled beat changes nothing.
CELERY_BEAT_SCHEDULE = {
    "notifications-resend-pending": {
        "task": "registry.tasks.notifications_resend_pending",
        "schedule": _every(timedelta(minutes=1)),
    },
    # The central link (registry.central): health per office, retries of transmissions
    # that are due or whose sender died, low blank-card stock alerts not yet sent.
    "central-link-check-all": {
        "task": "central.tasks.central_link_check_all",
        "schedule": _every(timedelta(minutes=1)),
    },
    "central-jobs-resend-due": {
        "task": "central.tasks.central_jobs_resend_due",
        "schedule": _every(timedelta(minutes=1)),
    },
    "card-stock-alerts-due": {
        "task": "central.tasks.card_stock_alerts_due",
        "schedule": _every(timedelta(minutes=15)),
    },
    # Each office's morning dispatch once its dispatch time has come on a working day
    # (registry.deliveries); the day's DispatchRun row makes it run once.
    "deliveries-dispatch-due": {
        "task": "deliveries.tasks.deliveries_dispatch_due",
        "schedule": _every(timedelta(minutes=5)),
    },
    # Complaint deadlines (complaints): warn the assignee before, the supervisors after;
    # each deadline row records its alerts, so a doubled beat alerts once.
    "complaint-deadlines-sweep": {
        "task": "complaints.tasks.complaint_deadlines_sweep",
        "schedule": _every(timedelta(minutes=5)),
    },
    # Appointments (registry.appointments): bookings whose day ended without a check-in
    # expire; open cases past their re-booking limit lapse; reminders whose hour has come
    # go out; slots are made ahead over each booking window. Each row carries its due
    # time or its sent mark, so a doubled beat expires, lapses and reminds once.
    "appointments-bookings-expire-due": {
        "task": "appointments.tasks.bookings_expire_due",
        "schedule": _every(timedelta(minutes=5)),
    },
    "appointments-applications-lapse-due": {
        "task": "appointments.tasks.applications_lapse_due",
        "schedule": _every(timedelta(minutes=30)),
    },
    "appointments-bookings-remind-due": {
        "task": "appointments.tasks.bookings_remind_due",
        "schedule": _every(timedelta(minutes=5)),
    },
    "appointments-slots-ensure-all": {
        "task": "appointments.tasks.slots_ensure_all",
        "schedule": _every(timedelta(hours=1)),
    },
    # Sign-in records past their use: code requests, spent activation codes, the used
    # refresh tokens of expired sign-ins (registry.otp.sign_in_records_purge).
    "sign-in-records-purge": {
        "task": "registry.tasks.sign_in_records_purge",
        "schedule": _every(timedelta(hours=1)),
    },
    # Personal data past its limit in RETENTION (registry.services.retention): files,
    # message texts, old records. At 02:00 in Indonesia's western zone (19:00 UTC), when
    # the offices are closed; each removed row is no longer due, so a doubled beat
    # removes nothing twice.
    "retention-sweep": {
        "task": "registry.tasks.retention_sweep",
        "schedule": crontab(hour=19, minute=0),
    },
    # The end of each office's day (queues): tickets past their own sweep time are closed
    # as no-shows; each closed ticket is marked, so a doubled beat closes nothing twice.
    # Idle counters (queues): an open counter calling nobody while people wait alerts the
    # office's supervisors; one open alert per counter, so a doubled beat alerts once.
    "queues-counter-alerts-due": {
        "task": "queues.tasks.counter_alerts_due",
        "schedule": _every(timedelta(minutes=1)),
    },
    "queues-tickets-close-due": {
        "task": "queues.tasks.tickets_close_due",
        "schedule": _every(timedelta(minutes=10)),
    },
}

# --- Notifications ---------------------------------------------------------
# One backend per channel. The log backend writes each message to the log, in full only
# with DEBUG (`make run`); set these to the real gateways in production, where
# `check --deploy` warns of a channel left on it (registry.checks).
NOTIFICATION_BACKENDS = {
    "push": "registry.notify.backends.InboxBackend",
    "whatsapp": os.environ.get("NOTIFY_WHATSAPP_BACKEND", "registry.notify.backends.LogBackend"),
    "sms": os.environ.get("NOTIFY_SMS_BACKEND", "registry.notify.backends.LogBackend"),
    "email": os.environ.get("NOTIFY_EMAIL_BACKEND", "registry.notify.backends.LogBackend"),
}
WHATSAPP_API_URL = os.environ.get("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
WHATSAPP_PHONE_NUMBER_ID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "")
WHATSAPP_TOKEN = os.environ.get("WHATSAPP_TOKEN", "")
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
# The secret the SMS gateway signs each inbound SMS with (HMAC-SHA256 of the timestamp
# and the raw body; registry.notify.signing). Development and tests use a fixed one,
# which the gateway simulator signs with (`manage.py sms_reply`); production must set
# its own: unset, every inbound SMS is refused, and `check --deploy` says so.
SMS_GATEWAY_DEV_SECRET = "dev-sms-gateway-inbound-secret"  # noqa: S105 - public on purpose
SMS_GATEWAY_INBOUND_SECRET = os.environ.get(
    "SMS_GATEWAY_INBOUND_SECRET", SMS_GATEWAY_DEV_SECRET if DEBUG or TESTING else "")
# A signed request older (or newer) than this is refused: a captured one cannot be
# replayed later.
SMS_GATEWAY_MAX_SKEW = timedelta(
    seconds=int(os.environ.get("SMS_GATEWAY_MAX_SKEW_SECONDS", "300")))
NOTIFY_SIMULATOR_DIR = os.environ.get("NOTIFY_SIMULATOR_DIR", str(VAR_DIR / "gateway-simulator"))
# One-time codes go out on this channel (its backend above).
OTP_CHANNEL = os.environ.get("OTP_CHANNEL", "sms")
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "6"))
NOTIFY_HTTP_TIMEOUT = float(os.environ.get("NOTIFY_HTTP_TIMEOUT", "10"))
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "e-Open <no-reply@localhost>")
# Links sent to residents (re-book, booking detail) open the app's deep links.
APP_LINK_BASE = os.environ.get("APP_LINK_BASE", "https://e-open.example.go.id/app")

# --- Personal data at rest (registry.encryption) -------------------------------
# NIKs and phone numbers are stored encrypted (AES-256-GCM) with a keyed hash beside
# them for exact lookups. EOPEN_FIELD_KEYS is "<id>:<base64 of 32 bytes>,..." and the
# first key encrypts; the others only decrypt, until `manage.py rotate_field_keys` has
# moved their rows. EOPEN_LOOKUP_KEY (base64 of 32 bytes) keys the lookup hashes: it
# cannot rotate without recomputing every hash, so keep it apart from the others.
# Development and tests derive both from SECRET_KEY; production must set them, and
# `check --deploy` fails without them (registry.checks).
def _dev_key(purpose: str) -> str:
    return base64.b64encode(hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()).decode()


FIELD_ENCRYPTION_KEYS = os.environ.get(
    "EOPEN_FIELD_KEYS", f"dev:{_dev_key('eopen-field-key')}" if DEBUG or TESTING else "")
FIELD_LOOKUP_KEY = os.environ.get(
    "EOPEN_LOOKUP_KEY", _dev_key("eopen-lookup-key") if DEBUG or TESTING else "")

# --- Logging ---------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"once_a_minute": {"()": "config.logfilters.AtMostEvery", "seconds": 60},
                # NIKs and phone numbers never reach a log in full (UU PDP 27/2022).
                "mask_personal": {"()": "config.logfilters.MaskPersonalData"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["mask_personal"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # The cache errors django-redis ignores while Redis is down (CACHES).
        "django_redis.cache": {"filters": ["once_a_minute"]},
    },
}

# --- Central server (registry.central) ---------------------------------------
# The ministry's central server: the HTTP client in production, the simulator (state
# in a SQLite file shared by web, worker and tests) in development and tests.
CENTRAL_CLIENT = os.environ.get("CENTRAL_CLIENT",
                                "registry.central.simulator.SimulatedCentralClient")
CENTRAL_BASE_URL = os.environ.get("CENTRAL_BASE_URL", "")
CENTRAL_CLIENT_ID = os.environ.get("CENTRAL_CLIENT_ID", "")
CENTRAL_CLIENT_SECRET = os.environ.get("CENTRAL_CLIENT_SECRET", "")
# Seconds to connect and to wait for an answer; a send holds a lease well beyond it.
CENTRAL_TIMEOUT = float(os.environ.get("CENTRAL_TIMEOUT", "15"))
CENTRAL_SIMULATOR_DIR = os.environ.get("CENTRAL_SIMULATOR_DIR",
                                       str(VAR_DIR / "central-simulator"))
# Publishing to a Redis broker that is down fails at once instead of retrying for about
# six seconds inside a web request; the work is a row already, and the outbox sweeps
# queue it again when the broker is back (registry.background). The worker's own
# consumer keeps reconnecting (broker_connection_retry).
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "max_retries": 0}

# --- Appointments (registry.appointments) ---------------------------------------
# Seconds the bookable slot list is cached per office and query. Each booking,
# cancellation and closure moves the office's slot version, so places show at once;
# this bounds how long a slot that has just started stays listed. 0 turns it off.
APPOINTMENTS_SLOTS_CACHE_SECONDS = int(os.environ.get("APPOINTMENTS_SLOTS_CACHE_SECONDS",
                                                      "5"))

# --- Queues (queues) -----------------------------------------------------------
# Seconds the display board's answer is cached per office and language (each office's
# stretched by up to half again, queues.api.views.board_cache_seconds). Every queue
# change drops it when it commits, so this bounds only how old the board's estimates
# and clock may be, and the work of the screens and apps polling it: with 514 offices'
# screens polling every 2 s, 1 s meant a computation for nearly every request
# (README "Scaling"). 0 turns the cache off (the board benchmarks measure both).
QUEUES_BOARD_CACHE_SECONDS = int(os.environ.get("QUEUES_BOARD_CACHE_SECONDS", "10"))

# How long personal data is kept (UU PDP 27/2022: no longer than its purpose needs), in
# days, for every office alike; registry.services.retention sweeps what is older.
# documents: uploaded documents, after their application closes; delivery_photos: proof
# photos of deliveries; otp: sign-in code records; notification_bodies: the text of
# messages sent (the fact of the message stays); access_log: the access log itself.
# Each can be set by EOPEN_RETENTION_<NAME>_DAYS.
RETENTION = {
    name: int(os.environ.get(f"EOPEN_RETENTION_{name.upper()}_DAYS", default))
    for name, default in {
        "documents": 90, "delivery_photos": 365, "otp": 30,
        "notification_bodies": 365, "access_log": 730,
    }.items()
}

# The audit of staff changes (registry.audit) is written to registry.AuditEntry, which
# carries the office; the changes are stored as JSON values, before and after.
AUDITLOG_LOGENTRY_MODEL = "registry.AuditEntry"
AUDITLOG_STORE_JSON_CHANGES = True
# django-auditlog's own migrations would create its default table even though the entries
# go to registry.AuditEntry (its initial migration is not marked swappable); that unused
# table's foreign key to the content types would stop PostgreSQL from truncating them.
MIGRATION_MODULES = {"auditlog": None}

