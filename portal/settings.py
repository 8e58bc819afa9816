"""Settings for the portal, read from the environment (see .env.example).

With no variables set the portal runs on an embedded default: a SQLite file, the locmem
cache, the in-memory channel layer and Celery tasks executed in-process. Setting
DATABASE_URL / REDIS_URL / CELERY_BROKER_URL / MEILI_URL switches each part to its server.
Production hardening lives in portal.settings_production.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url

from portal import redis_config
from portal.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

# Development default only; production settings refuse it.
INSECURE_DEV_SECRET_KEY = "django-insecure-portal-development-only"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", default=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"

INSTALLED_APPS = [
    "daphne",  # first, so runserver serves ASGI (HTTP + websockets)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by the portal (no CDN)
    "channels",
    "portal.accounts",
    "portal.events",
    "portal.idempotency",
    "portal.jobs",
    "portal.outbox",
    "portal.ha",  # system checks of the Redis servers' eviction policies
    "catalog",
    "enrollment",
    "instructor",
    "realtime",
    "frontend",
]

MIDDLEWARE = [
    # First: every answer carries X-Request-ID and every line logged on the way its id.
    "portal.request_id.RequestIdMiddleware",
    "portal.metrics.MetricsMiddleware",
    "portal.middleware.ApiErrorShapeMiddleware",
    "portal.middleware.ApiBodySizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ApiCommonMiddleware",  # Django's, no slash redirects on /api/
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in session's last use, at most once a minute (portal/accounts/last_use.py).
    "portal.accounts.middleware.SessionLastUseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "frontend.csp.ContentSecurityPolicyMiddleware",
    "portal.middleware.ApiExceptionMiddleware",
]
# HTML pages get a strict Content-Security-Policy (frontend/csp.py) except these, which
# bring inline code of their own.
CSP_EXEMPT_PATHS = ("/admin/",)

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
DATABASES: dict[str, Any]  # a parsed URL, or the embedded SQLite file (a Path)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
            conn_health_checks=True,
        )
    }
    # Under ASGI every request runs in a thread of its own, so persistent per-thread
    # connections (CONN_MAX_AGE) pile up; a psycopg pool shared by the process does not.
    if env_int("DB_POOL_MAX_SIZE", 0) > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env_int("DB_POOL_MAX_SIZE", 0),
            "timeout": 10,
        }  # checked before each use (CONN_HEALTH_CHECKS): a terminated backend is replaced
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portal.sqlite3",
            # WAL + a busy timeout let the in-process tasks and web requests share the file.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
# PgBouncer in transaction mode lends a server connection per transaction: a server-side
# cursor (QuerySet.iterator) would outlive it. Django already turns psycopg's prepared
# statements off (OPTIONS prepare_threshold None), the other thing such a pooler breaks.
DISABLE_SERVER_SIDE_CURSORS = env_bool("DISABLE_SERVER_SIDE_CURSORS")
if DATABASE_URL:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DISABLE_SERVER_SIDE_CURSORS
# An optional read replica for the catalog and search pages (portal/db_router.py): a
# client that wrote reads from the primary for DATABASE_REPLICA_PIN_SECONDS after.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
DATABASE_REPLICA_PIN_SECONDS = env_float("DATABASE_REPLICA_PIN_SECONDS", 5.0)
if DATABASE_URL and DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=True,
        ),
        "DISABLE_SERVER_SIDE_CURSORS": DISABLE_SERVER_SIDE_CURSORS,
        "TEST": {"MIRROR": "default"},  # test runs read their one test database
    }
    # A replica that does not answer is skipped (its reads go to the primary) after this.
    _REPLICA_OPTIONS = DATABASES["replica"].setdefault("OPTIONS", {})
    _REPLICA_OPTIONS["connect_timeout"] = env_int("DATABASE_REPLICA_CONNECT_TIMEOUT", 2)
    if "pool" in DATABASES["default"].get("OPTIONS", {}):
        _REPLICA_OPTIONS["pool"] = {**DATABASES["default"]["OPTIONS"]["pool"], "timeout": 3}
    DATABASE_ROUTERS = ["portal.db_router.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "portal.db_router.ReplicaReadsMiddleware",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache, sessions, channel layer ------------------------------------------------
# Redis URLs go through portal.redis_config, which also reads the `redis+sentinel://`
# form. With REDIS_SENTINELS (host:port list) and REDIS_MASTER_NAME set, every Redis URL
# below is resolved through the sentinels: its database index and login are kept, its
# host and port are not used; REDIS_URL may then be left out (database 0).
REDIS_SENTINELS = env_list("REDIS_SENTINELS")


def _redis_url(url: str, master: str = "") -> str:
    return redis_config.resolve(
        url,
        sentinels=REDIS_SENTINELS,
        master=master or env_str("REDIS_MASTER_NAME"),
        password=env_str("REDIS_PASSWORD"),
        sentinel_password=env_str("REDIS_SENTINEL_PASSWORD"),
    )


# The channel layer, presence and socket counts: coordination, never evicted (its Redis
# should run maxmemory-policy noeviction, like the broker's).
REDIS_URL = _redis_url(env_str("REDIS_URL"))
# The cache (answers, the sessions' cache, rate-limit counters) may live on a Redis of its
# own that evicts (allkeys-lru), so a full cache can never drop a queued job
# (CACHE_REDIS_URL; with sentinels, CACHE_REDIS_MASTER_NAME). Default: REDIS_URL.
_CACHE_MASTER = env_str("CACHE_REDIS_MASTER_NAME")
if env_str("CACHE_REDIS_URL") or (_CACHE_MASTER and REDIS_SENTINELS):
    CACHE_REDIS_URL = _redis_url(env_str("CACHE_REDIS_URL") or env_str("REDIS_URL"), _CACHE_MASTER)
else:
    CACHE_REDIS_URL = REDIS_URL
if CACHE_REDIS_URL:
    if redis_config.parse(CACHE_REDIS_URL) is None:
        _CACHE_LOCATION: str | list[str] = CACHE_REDIS_URL
        _CACHE_POOL: dict[str, str] = {}
    else:  # a list: the sentinel URL's commas are not Django's server separators
        _CACHE_LOCATION = [CACHE_REDIS_URL]
        _CACHE_POOL = {"pool_class": "portal.redis_config.CachePool"}
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_LOCATION,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
            "TIMEOUT": 300,
            "OPTIONS": {**_CACHE_POOL, "socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "portal",
            "TIMEOUT": 300,
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
if REDIS_URL:
    # redis-py 8 times reads out after 5 s by default, exactly the blocking-receive
    # timeout of channels-redis: a quiet socket then dies with "Timeout reading". Give the
    # layer's connections a longer read timeout; also raise redis-py's 100-connection
    # pool cap, or mass disconnects fail in group_discard.
    _LAYER_HOST = redis_config.channel_layer_host(
        REDIS_URL, max_connections=2000, socket_timeout=30, socket_connect_timeout=3
    )
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis' pub/sub layer, letting sockets connect with Redis away.
            "BACKEND": "realtime.layers.ResilientPubSubChannelLayer"
            if env_str("CHANNEL_LAYER", "pubsub") == "pubsub"
            else "channels_redis.core.RedisChannelLayer",
            # Pub/sub channels span every Redis database index: deployments (or test
            # runs) that share a Redis tell their groups apart by the prefix.
            "CONFIG": {"hosts": [_LAYER_HOST], "prefix": env_str("CHANNEL_LAYER_PREFIX", "asgi")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Requests of one app process that run at once (portal/admission.py; 0: no limit), and how
# long one waits for its turn before it is answered 503.
HTTP_CONCURRENCY = env_int("HTTP_CONCURRENCY", 4)
HTTP_ADMISSION_WAIT_SECONDS = env_float("HTTP_ADMISSION_WAIT_SECONDS", 10.0)

CATALOG_LIST_CACHE_SECONDS = env_int("CATALOG_LIST_CACHE_SECONDS", 300)
CATALOG_DETAIL_CACHE_SECONDS = env_int("CATALOG_DETAIL_CACHE_SECONDS", 900)

# --- Celery -------------------------------------------------------------------------
# No broker: run tasks in-process (the embedded default), after the request's commit.
# With REDIS_SENTINELS a redis:// broker URL becomes Celery's sentinel form (one
# sentinel://host:port/db per sentinel) plus `master_name` in the transport options.
CELERY_BROKER_URL, _BROKER_SENTINEL_OPTIONS = redis_config.celery_url(
    _redis_url(env_str("CELERY_BROKER_URL")) if env_str("CELERY_BROKER_URL") else "memory://",
    socket_timeout=2,
    socket_connect_timeout=2,
)
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not env_str("CELERY_BROKER_URL")
)
if _BROKER_SENTINEL_OPTIONS:
    # Celery takes CELERY_BROKER_URL from the environment before its settings.
    os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
# Job results are not kept unless CELERY_RESULT_BACKEND names a store (a redis:// URL
# follows REDIS_SENTINELS like the broker's).
_RESULT_URL, _RESULT_SENTINEL_OPTIONS = redis_config.celery_url(
    _redis_url(env_str("CELERY_RESULT_BACKEND")) if env_str("CELERY_RESULT_BACKEND") else "",
    socket_timeout=2,
    socket_connect_timeout=2,
)
CELERY_RESULT_BACKEND = _RESULT_URL or None
if _RESULT_SENTINEL_OPTIONS:
    os.environ["CELERY_RESULT_BACKEND"] = _RESULT_URL  # as CELERY_BROKER_URL
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = _RESULT_SENTINEL_OPTIONS
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "enrollment.tasks.queue_activation_followups": {"queue": "emails"},
    "enrollment.tasks.send_welcome_email": {"queue": "emails"},
    "enrollment.tasks.send_receipt_email": {"queue": "emails"},
    "enrollment.tasks.send_payment_reminder": {"queue": "emails"},
    "catalog.tasks.send_waitlist_offer_email": {"queue": "emails"},
    "portal.accounts.tasks.send_verification_email": {"queue": "emails"},
    "portal.accounts.tasks.send_password_reset": {"queue": "emails"},
    "enrollment.tasks.notify_instructors": {"queue": "notifications"},
    "instructor.tasks.send_announcement_batch": {"queue": "notifications"},
    # Everything else goes to "default".
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A job no worker acknowledged (its worker was lost) comes back after this long. It must
# outlast the longest retry countdown (PortalTask.retry_backoff_max) and run (the time
# limit below), or a waiting or running job would be delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 300),
    # Workers look for such jobs every interval x throttle seconds (kombu's default, 100 s,
    # would add most of two minutes to the timeout).
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL_SECONDS", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 3),
    # Publishing (the outbox relay) tries a dead broker once and gives up at once: the
    # relay retries later; kombu's default backoff held a request ~6 s per job.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    **_BROKER_SENTINEL_OPTIONS,
}
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT_SECONDS", 120)
# A job's claim on its work (portal.jobs.once) lapses after this long, so a run whose
# worker died is done again by the redelivery: longer than any run (the time limit).
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 150)
CELERY_BEAT_SCHEDULE = {
    "reconcile-payments": {"task": "enrollment.tasks.reconcile_payments", "schedule": 60.0},
    "expire-checkout-holds": {"task": "enrollment.tasks.expire_checkout_holds", "schedule": 10.0},
    "expire-waitlist-offers": {"task": "catalog.tasks.expire_waitlist_offers", "schedule": 10.0},
    "sweep-pending-enrollments": {
        "task": "enrollment.tasks.sweep_pending_enrollments",
        "schedule": 30.0,
    },
    "prune-idempotency-keys": {
        "task": "portal.idempotency.tasks.prune_idempotency_keys",
        "schedule": 3600.0,
    },
    "prune-events": {"task": "realtime.tasks.prune_events", "schedule": 3600.0},
    # Effects the fast path after commit could not carry out (the broker or cache was
    # down); `manage.py relay_effects` does the same without a broker.
    "relay-effects": {"task": "portal.outbox.tasks.relay_effects", "schedule": 5.0},
    "prune-job-runs": {"task": "portal.jobs.tasks.prune_job_runs", "schedule": 3600.0},
    "prune-auth-tokens": {"task": "portal.accounts.tasks.prune_auth_tokens", "schedule": 3600.0},
    "prune-user-sessions": {
        "task": "portal.accounts.tasks.prune_user_sessions",
        "schedule": 3600.0,
    },
}
# Run Celery beat's schedule in a thread of the serving process (the embedded default has
# no broker and no beat; scripts/run sets it). Never with several app servers.
RUN_SCHEDULE_IN_PROCESS = env_bool("RUN_SCHEDULE_IN_PROCESS", False)
# A paid checkout holds its seat this long (decimals allowed: 0.5 is 30 s); past it the
# enrollment is cancelled, its seat released and its charge cancelled at the gateway.
CHECKOUT_HOLD_MINUTES = env_float("CHECKOUT_HOLD_MINUTES", 15.0)
# A seat offered to the first in a course's waitlist is held for them this long.
WAITLIST_OFFER_MINUTES = env_float("WAITLIST_OFFER_MINUTES", 15.0)
RECONCILE_AFTER_SECONDS = env_int("RECONCILE_AFTER_SECONDS", 300)
RECONCILE_ABANDON_HOURS = env_int("RECONCILE_ABANDON_HOURS", 23)
# A free enrollment still pending this long after it was reserved lost its request.
PENDING_SWEEP_AFTER_SECONDS = env_int("PENDING_SWEEP_AFTER_SECONDS", 60)
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 7)
# A folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf (Debian's fonts-dejavu-core) for
# certificate PDFs in any script; without them the PDF falls back to Latin-1 core fonts.
CERTIFICATE_FONT_DIR = env_str("CERTIFICATE_FONT_DIR", "/usr/share/fonts/truetype/dejavu")

# --- Websockets ---------------------------------------------------------------------
WS_HEARTBEAT_SECONDS = env_int("WS_HEARTBEAT_SECONDS", 20)
WS_FRAMES_PER_SECOND = env_int("WS_FRAMES_PER_SECOND", 20)
WS_FRAME_BURST = env_int("WS_FRAME_BURST", 40)
WS_FLOOD_CLOSE_AFTER = env_int("WS_FLOOD_CLOSE_AFTER", 200)
# A tab of a server process that died stops counting in `course.presence` within this
# many seconds (realtime.presence: leases of three quarters of it, renewed every quarter).
PRESENCE_TTL_SECONDS = env_float("PRESENCE_TTL_SECONDS", 60.0)
# Open sockets per client address (all app processes together with Redis); the next one is
# closed with 4430. Sized for a classroom behind one NAT address; 0 turns it off.
WS_MAX_SOCKETS_PER_ADDRESS = env_int("WS_MAX_SOCKETS_PER_ADDRESS", 200)
# Re-check a signed-in socket's credentials every N heartbeats (3 x 20 s = a minute).
WS_RECHECK_EVERY_BEATS = env_int("WS_RECHECK_EVERY_BEATS", 3)

# --- Search -------------------------------------------------------------------------
MEILI_URL = env_str("MEILI_URL")
MEILI_MASTER_KEY = env_str("MEILI_MASTER_KEY")
# The key the portal searches and indexes with: not the master key, which only
# `manage.py search_key` needs (it creates this key). MEILI_API_KEY_FILE names a file
# holding it instead (compose shares one that command wrote); without either, the master
# key is used, as a single-machine set-up may.
MEILI_API_KEY = env_str("MEILI_API_KEY")
if not MEILI_API_KEY and env_str("MEILI_API_KEY_FILE"):
    MEILI_API_KEY = Path(env_str("MEILI_API_KEY_FILE")).read_text().strip()  # missing: fail
MEILI_INDEX = env_str("MEILI_INDEX", "courses")
MEILI_TIMEOUT_SECONDS = float(env_str("MEILI_TIMEOUT_SECONDS", "0.3"))  # searches, health
# Jobs: document pushes, settings, task polling (a rebuild waits up to the task timeout).
MEILI_WRITE_TIMEOUT_SECONDS = float(env_str("MEILI_WRITE_TIMEOUT_SECONDS", "10"))
MEILI_TASK_WAIT_SECONDS = float(env_str("MEILI_TASK_WAIT_SECONDS", "120"))
MEILI_BATCH_SIZE = env_int("MEILI_BATCH_SIZE", 1000)
# Circuit breaker: open after a timeout or this many failures; probe again after cool-down.
SEARCH_BREAKER_FAILURES = env_int("SEARCH_BREAKER_FAILURES", 3)
SEARCH_BREAKER_COOLDOWN_SECONDS = float(env_str("SEARCH_BREAKER_COOLDOWN_SECONDS", "30"))

# --- Payments -----------------------------------------------------------------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")  # tests point this at a local stub
STRIPE_TIMEOUT_SECONDS = float(env_str("STRIPE_TIMEOUT_SECONDS", "10"))
PAYMENT_GATEWAY = env_str("PAYMENT_GATEWAY", "stripe" if STRIPE_SECRET_KEY else "test")

# --- Email --------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Course announcements: recipients per job (each job queues the next batch), body size.
ANNOUNCEMENT_BATCH_SIZE = env_int("ANNOUNCEMENT_BATCH_SIZE", 200)
ANNOUNCEMENT_BODY_MAX_CHARS = env_int("ANNOUNCEMENT_BODY_MAX_CHARS", 20000)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Learning Portal <no-reply@portal.local>")

# --- Auth ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "portal.accounts.validators.NotOnlyWhitespaceValidator"},
]
# The emailed links: a password reset works once within this many seconds (1 hour), an
# email verification within this many (3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3600)
EMAIL_VERIFICATION_MAX_AGE_SECONDS = env_int("EMAIL_VERIFICATION_MAX_AGE_SECONDS", 3 * 24 * 3600)
# A guest buyer's link to claim their purchases (create or sign in to the account).
GUEST_CLAIM_MAX_AGE_SECONDS = env_int("GUEST_CLAIM_MAX_AGE_SECONDS", 90 * 24 * 3600)
AUTH_TOKEN_TTL_DAYS = env_int("AUTH_TOKEN_TTL_DAYS", 30)

# --- Rate limits: scope → (requests, window seconds) per client address (+ identity) -----
RATE_LIMITS: dict[str, tuple[int, int]] = {
    # API and admin sign-in alike: per address + email, and per address.
    "login": (env_int("RATE_LIMIT_LOGIN", 10), 60),
    "login_ip": (env_int("RATE_LIMIT_LOGIN_IP", 60), 60),
    "register": (env_int("RATE_LIMIT_REGISTER", 5), 60),
    # Password reset requests: per address, and per address + email; verification emails
    # resent per account; links followed (verify, reset, claim) per address.
    "password_reset_ip": (env_int("RATE_LIMIT_PASSWORD_RESET_IP", 10), 3600),
    "password_reset": (env_int("RATE_LIMIT_PASSWORD_RESET", 3), 3600),
    "verify_resend": (env_int("RATE_LIMIT_VERIFY_RESEND", 3), 3600),
    "account_link": (env_int("RATE_LIMIT_ACCOUNT_LINK", 20), 60),
    # The account page, per account: password changes and erasure attempts (each proves
    # the password), data exports (each reads everything), email changes (each mails a link).
    "password_change": (env_int("RATE_LIMIT_PASSWORD_CHANGE", 10), 3600),
    "account_delete": (env_int("RATE_LIMIT_ACCOUNT_DELETE", 10), 3600),
    "account_export": (env_int("RATE_LIMIT_ACCOUNT_EXPORT", 10), 3600),
    "email_change": (env_int("RATE_LIMIT_EMAIL_CHANGE", 5), 3600),
    # Enrollments per account (per address for guests), and per address whatever the account.
    "enroll": (env_int("RATE_LIMIT_ENROLL", 30), 60),
    "enroll_ip": (env_int("RATE_LIMIT_ENROLL_IP", 60), 60),
    # Declined payments (card testing): per student email and per account, and per address.
    # Counted on declines only; once reached, paid enrollments are refused before charging.
    "decline": (env_int("RATE_LIMIT_DECLINE", 5), 3600),
    "decline_ip": (env_int("RATE_LIMIT_DECLINE_IP", 20), 3600),
    # Announcements an instructor (or staff member) may send, all their courses together.
    "announce": (env_int("RATE_LIMIT_ANNOUNCE", 5), 3600),
    # Coupon quotes per client address: slow enough that codes cannot be guessed by trying.
    "coupon_quote": (env_int("RATE_LIMIT_COUPON_QUOTE", 20), 60),
    # Joining and leaving waitlists, per account (each join or leave reorders a line).
    "waitlist": (env_int("RATE_LIMIT_WAITLIST", 30), 60),
}
# With the cache down these scopes let requests through (logged): the seat rule and
# idempotency live in PostgreSQL. Every other scope answers 503 (docs/operations.md).
RATE_LIMITS_FAIL_OPEN = frozenset({"enroll", "enroll_ip"})
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
IDEMPOTENCY_CLAIM_LOCK_SECONDS = env_int("IDEMPOTENCY_CLAIM_LOCK_SECONDS", 60)

# --- HTTP API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # DRF's JSON parser plus a depth limit and no NUL or lone surrogate (portal/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["portal.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "portal.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "portal.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Learning Portal API",
    "DESCRIPTION": "Catalog, search, enrollment and payments. Errors share one shape: "
    '{"error": {"code", "message", "fields"}}. Bodies are JSON of the documented types, '
    "nested at most 32 levels; no text may contain NUL characters or lone surrogates.",
    "VERSION": "1.0.0",
    # Request bodies get components of their own, where required text has minLength 1.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The contract's error shape on every operation, for every status it may answer.
        "portal.openapi.error_responses_hook",
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "CourseLevelEnum": "catalog.models.Level",
        "LessonKindEnum": "catalog.shapes.LessonKind",
        "VideoContentTypeEnum": "catalog.shapes.VIDEO_CONTENT_TYPES",
        "WaitlistStatusEnum": "catalog.models.WAITLIST_LIVE_CHOICES",
    },
    # The docs UI's files come from the project (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge fetched from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
# Bodies larger than this are refused with 413 before any view reads them (uploads:
# API_UPLOAD_BODY_LIMITS, with the media settings).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# --- i18n, static -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# Development serves straight from the apps' static folders; production from collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Media: lesson videos, captions and resources (catalog/media/) -------------------
# Never public: the API hands out links that expire after this many seconds (presigned
# on S3, signed by the portal on the local backend). Long enough to watch a lesson and
# seek in it; the lesson page fetches the lesson again for fresh links.
MEDIA_URL_EXPIRY_SECONDS = env_int("MEDIA_URL_EXPIRY_SECONDS", 3600)
# The local backend's folder: outside every static route (WhiteNoise serves STATIC_ROOT).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# POST /api/lessons/{id}/media: the video's size limit, each captions file's, how many.
LESSON_MEDIA_MAX_BYTES = env_int("LESSON_MEDIA_MAX_BYTES", 200 * 1024 * 1024)
LESSON_CAPTIONS_MAX_BYTES = env_int("LESSON_CAPTIONS_MAX_BYTES", 1024 * 1024)
LESSON_CAPTIONS_MAX_FILES = 10
# POST /api/lessons/{id}/resources: a downloadable file's size limit and accepted types
# (judged from its name; resources are always served as attachments).
LESSON_RESOURCE_MAX_BYTES = env_int("LESSON_RESOURCE_MAX_BYTES", 50 * 1024 * 1024)
LESSON_RESOURCE_TYPES = frozenset(
    {
        "application/pdf", "application/zip", "application/json", "text/plain",
        "text/markdown", "text/csv", "image/png", "image/jpeg", "image/gif", "image/webp",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.oasis.opendocument.spreadsheet",
    }
)  # fmt: skip
# The API's body limit on the upload's path: a video, its captions, the form's overhead.
API_UPLOAD_BODY_LIMITS = [
    (
        r"^/api/lessons/[0-9]+/media$",
        LESSON_MEDIA_MAX_BYTES + LESSON_CAPTIONS_MAX_FILES * LESSON_CAPTIONS_MAX_BYTES + 64 * 1024,
    ),
    (r"^/api/lessons/[0-9]+/resources$", LESSON_RESOURCE_MAX_BYTES + 64 * 1024),
]
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    # django-storages on S3 (or any S3-compatible server: AWS_S3_ENDPOINT_URL). Objects
    # stay private (no ACL); links are presigned GETs (query-string auth, SigV4).
    _MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "signature_version": "s3v4",
            "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": MEDIA_URL_EXPIRY_SECONDS,
            "file_overwrite": False,
        },
    }
else:
    _MEDIA_STORAGE = {
        "BACKEND": "catalog.media.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }

STORAGES = {
    "default": _MEDIA_STORAGE,
    "staticfiles": {
        # Hashed names (the ES modules' imports rewritten to them) and gzip + Brotli copies:
        # WhiteNoise serves them compressed and cached for good (`immutable`).
        "BACKEND": "portal.staticfiles.StaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Probes (portal/health.py) ------------------------------------------------------
# /readyz and /readyz/dependencies wait this long (seconds) for their dependency probes,
# run side by side; a dependency slower than that is reported unavailable.
READYZ_PROBE_SECONDS = env_float("READYZ_PROBE_SECONDS", 0.5)

# --- Metrics (portal/metrics.py) -----------------------------------------------------
# Set: GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
METRICS_TOKEN = env_str("METRICS_TOKEN")
# The enrollment, payment and revenue gauges are aggregated at most this often (seconds)
# for all app servers together (kept in the cache); 0 aggregates at every scrape.
METRICS_BUSINESS_CACHE_SECONDS = env_int("METRICS_BUSINESS_CACHE_SECONDS", 30)

# --- Logging ------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "console" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "portal.logging.structlog_formatter",
            "format_name": LOG_FORMAT,
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler would print every line twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
    },
}
