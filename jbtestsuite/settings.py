"""JBTestSuite settings: one module, driven by environment variables (see `.env.example`).

With nothing set, everything runs on this machine with no server: SQLite and Celery's
filesystem broker under DATA_DIR. Set DATABASE_URL and REDIS_URL for PostgreSQL and Redis.
"""

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab
from cryptography.fernet import Fernet

from jbtestsuite.env import ENVIRONMENTS, Config, ConfigError
from jbtestsuite.log import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
config = Config(env_file=BASE_DIR / ".env")

ENVIRONMENT = config.str("ENVIRONMENT", "development", choices=ENVIRONMENTS)
IS_DEPLOYED = ENVIRONMENT in ("staging", "production")

# What each environment implies unless a variable says otherwise.
_PROFILE = {
    "development": {"debug": True, "log_level": "DEBUG", "log_format": "console", "conn_max_age": 0},
    "testing": {"debug": False, "log_level": "WARNING", "log_format": "console", "conn_max_age": 0},
    "staging": {"debug": False, "log_level": "INFO", "log_format": "json", "conn_max_age": 60},
    "production": {"debug": False, "log_level": "INFO", "log_format": "json", "conn_max_age": 60},
}[ENVIRONMENT]

DEBUG = config.bool("DEBUG", _PROFILE["debug"])
DATA_DIR = Path(config.str("DATA_DIR", str(BASE_DIR / "data"))).resolve()

SECRET_KEY = config.secret("SECRET_KEY")
if not SECRET_KEY:
    if IS_DEPLOYED:
        raise ConfigError(f"SECRET_KEY is required when ENVIRONMENT={ENVIRONMENT}: set it to a long random string")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105 (dev only)

ALLOWED_HOSTS = config.list("ALLOWED_HOSTS", [] if IS_DEPLOYED else ["localhost", "127.0.0.1", "[::1]", "testserver"])
if IS_DEPLOYED and not ALLOWED_HOSTS:
    raise ConfigError(f"ALLOWED_HOSTS is required when ENVIRONMENT={ENVIRONMENT}: a comma-separated list of host names")

# Secrets at rest (environment variable values...) are Fernet tokens; see jbtestsuite/crypto.py.
# Comma list of keys, newest first: the first encrypts, every one decrypts (for rotation).
SECRETS_ENCRYPTION_KEYS = [key.strip() for key in config.secret("SECRETS_ENCRYPTION_KEYS").split(",") if key.strip()]
if not SECRETS_ENCRYPTION_KEYS:
    if IS_DEPLOYED:
        raise ConfigError(
            f"SECRETS_ENCRYPTION_KEYS is required when ENVIRONMENT={ENVIRONMENT}: generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        )
    # Development and tests: a key derived from SECRET_KEY, so nothing needs configuring.
    _digest = hashlib.sha256(b"jbtestsuite secrets at rest\x00" + SECRET_KEY.encode()).digest()
    SECRETS_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_digest).decode()]
for _position, _key in enumerate(SECRETS_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key)
    except (ValueError, TypeError):
        raise ConfigError(
            f"SECRETS_ENCRYPTION_KEYS is invalid: key {_position} is not a Fernet key (32 url-safe base64 bytes)"
        ) from None

CSRF_TRUSTED_ORIGINS = config.list("CSRF_TRUSTED_ORIGINS", [])
CORS_ALLOWED_ORIGINS = config.list("CORS_ORIGINS", [])
PUBLIC_BASE_URL = config.url("PUBLIC_BASE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "django_structlog",
    "jbtestsuite",
    "tests_catalog",
    "executions",
    "notifications",
    "artifacts",
    "demo",
    # After executions: it adds the "explain" button to the execution page registered there.
    "assistant",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django_structlog.middlewares.RequestMiddleware",
    "jbtestsuite.middleware.request_id_echo",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if IS_DEPLOYED:
    # gunicorn serves the admin's static files itself; runserver does it in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "jbtestsuite.urls"
WSGI_APPLICATION = "jbtestsuite.wsgi.application"
ASGI_APPLICATION = "jbtestsuite.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": config.database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'jbtestsuite.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = config.int("DATABASE_CONN_MAX_AGE", _PROFILE["conn_max_age"], minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL plus immediate transactions and a busy
    # timeout turn "database is locked" errors into short waits.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------
REDIS_URL = config.url("REDIS_URL", "", schemes=("redis", "rediss"))
CELERY_BROKER_URL = config.url(
    "CELERY_BROKER_URL", REDIS_URL or "filesystem://localhost//", schemes=("redis", "rediss", "amqp", "filesystem")
)
BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # The default 1 s poll would add up to a second before every execution starts.
        "polling_interval": 0.05,
    }
    for _folder in ("queue", "control", "processed"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        # Publishing gives up after one quick retry: with the broker down an API call must still
        # answer at once (the sweeper sends the task later), not after kombu's ~6 s of retries.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The DatabaseScheduler copies these entries into its tables on start; edit times in the admin.
CELERY_BEAT_SCHEDULE = {
    "artifacts-cleanup-expired": {"task": "artifacts.cleanup_expired", "schedule": crontab(hour=3, minute=17)},
}

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Live progress over WebSocket ----------------------------------------------------------
# The ASGI app reaches the socket routes through this name, as Django reaches ROOT_URLCONF:
# the ground floor imports no app.
WEBSOCKET_URLCONF = "executions.routing"
if REDIS_URL:
    # channels-redis's pub/sub layer: a PUBLISH per push, no per-group expiring sets (the
    # classic layer's group_send can drop messages once a group's capacity is reached).
    # Pub/sub channels ignore the database number, so it goes into the prefix to keep apart
    # deployments (and test runs) that share one Redis server.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 2}],
                "prefix": "jbts" + (urlsplit(REDIS_URL).path.strip("/") or "0") + ".",
            },
        }
    }
else:
    # Embedded default: nothing is pushed; the streams read new rows every LIVE_POLL_INTERVAL_MS.
    CHANNEL_LAYERS = {}
LIVE_POLL_INTERVAL_MS = config.int("LIVE_POLL_INTERVAL_MS", 1000, minimum=50)
# With Redis, a quiet stream still reads the database this often, in case a push was lost.
LIVE_RESYNC_SECONDS = config.int("LIVE_RESYNC_SECONDS", 5, minimum=1)
# A client this many messages behind, or whose socket takes longer than
# LIVE_SEND_TIMEOUT_SECONDS to take one message, is disconnected (4408): memory stays bounded.
LIVE_MAX_UNSENT_MESSAGES = config.int("LIVE_MAX_UNSENT_MESSAGES", 1000, minimum=10)
LIVE_SEND_TIMEOUT_SECONDS = config.int("LIVE_SEND_TIMEOUT_SECONDS", 10, minimum=1)

# --- Auth and API ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
RATE_LIMIT_PER_MINUTE = config.int("RATE_LIMIT_PER_MINUTE", 600, minimum=1)
# The token endpoint's own limits: password guessing is slow from one address or for one name.
LOGIN_RATE_LIMIT_PER_ADDRESS = config.int("LOGIN_RATE_LIMIT_PER_ADDRESS", 20, minimum=1)
LOGIN_RATE_LIMIT_PER_USERNAME = config.int("LOGIN_RATE_LIMIT_PER_USERNAME", 10, minimum=1)
REST_FRAMEWORK = {
    # simplejwt's authentication that also refuses tokens revoked by logout or a new password.
    "DEFAULT_AUTHENTICATION_CLASSES": ["tests_catalog.api.authentication.RevocableJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "jbtestsuite.schema.ApiSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": f"{RATE_LIMIT_PER_MINUTE}/min",
        "login_address": f"{LOGIN_RATE_LIMIT_PER_ADDRESS}/min",
        "login_username": f"{LOGIN_RATE_LIMIT_PER_USERNAME}/min",
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "jbtestsuite.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "jbtestsuite.pagination.PageEnvelopePagination",
    "DEFAULT_FILTER_BACKENDS": ["jbtestsuite.filters.NonEmptyFilterBackend"],
    "EXCEPTION_HANDLER": "jbtestsuite.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=config.int("ACCESS_TOKEN_EXPIRE_MINUTES", 30, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=config.int("REFRESH_TOKEN_EXPIRE_DAYS", 30, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "JBTestSuite API",
    "DESCRIPTION": (
        "Describe browser tests as data, run them in real browsers, read the results.\n\n"
        "**Live progress (WebSocket, not part of this REST schema).** Follow a run as it goes: "
        "`ws(s)://<host>/ws/executions/{id}/`, `/ws/suite-runs/{id}/` and `/ws/projects/{id}/activity/`. "
        "Authenticate with the access token as the subprotocol `bearer.<token>` (offer `jbtestsuite` "
        "beside it; the server answers with `jbtestsuite`) or an `Authorization: Bearer <token>` header; "
        "the admin's session cookie works too. The same project roles as this API apply: another "
        "project's run is refused like an unknown one (close code 4404). Text frames are JSON: first "
        '`{"type": "hello", "stream", "id", "status", "mode", "after", "last_seq"}`, then '
        '`{"type": "event", "seq", "kind", "execution", "execution_seq", "suite_run", "suite_seq", '
        '"project", "at", "data"}` with `seq` 1, 2, 3... per stream. Reconnect with `?after=<last seq>` '
        "to get everything after it (replayed from the database, then live): no gaps, no duplicates. "
        "Kinds: execution.queued, execution.retried, execution.started, step.started, step.finished, "
        "execution.finished, suite_run.queued, suite_run.started, suite_run.progress, suite_run.finished. "
        "The server closes with 1000 once the run has finished and everything was sent; 4400 bad `after`, "
        "4401 no, bad or expired token, 4404 not found, 4408 the client read too slowly. See the README."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "jbtestsuite.schema.query_parameters_non_empty",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "executions.models.RunStatus.choices",
        "StepResultStatusEnum": "executions.models.StepStatus.choices",
        "TestCaseStatusEnum": "tests_catalog.models.CaseStatus.choices",
        "OverlapPolicyEnum": "executions.models.OverlapPolicy.choices",
        "NotificationChannelKindEnum": "notifications.models.ChannelKind.choices",
        "ArtifactKindEnum": "artifacts.models.ArtifactKind.choices",
        "NotifyOnEnum": "notifications.models.NotifyOn.choices",
        "RunSourceEnum": "notifications.models.RunSource.choices",
        "AssistantJobStatusEnum": "assistant.models.JobStatus.choices",
        "FailureCategoryEnum": "assistant.models.Category.choices",
        "ProposalStatusEnum": "assistant.models.ProposalStatus.choices",
    },
}

# --- Browser runner and executions ----------------------------------------------------------
SELENIUM_HUB_URL = config.url("SELENIUM_HUB_URL", "", schemes=("http", "https"))
CHROMIUM_BINARY = config.str("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER_PATH = config.str("CHROMEDRIVER_PATH", "/usr/bin/chromedriver")
BROWSER_REUSE = config.bool("BROWSER_REUSE", True)
BROWSER_WINDOW_WIDTH = config.int("BROWSER_WINDOW_WIDTH", 1366, minimum=200)
BROWSER_WINDOW_HEIGHT = config.int("BROWSER_WINDOW_HEIGHT", 768, minimum=200)
# Hosts the browser may open (names, *.example.com, IPs or CIDR networks); empty: any http(s)
# host but cloud metadata addresses (private networks included: staging apps live there).
BROWSER_ALLOWED_HOSTS = config.list("BROWSER_ALLOWED_HOSTS", [])
PAGE_LOAD_TIMEOUT_SECONDS = config.int("PAGE_LOAD_TIMEOUT_SECONDS", 30, minimum=1)
STEP_TIMEOUT_MS = config.int("STEP_TIMEOUT_MS", 10_000, minimum=1)
# Past this many iterations a while/times/for_each/do loop errors (Selenium IDE stops at 1000 too).
LOOP_MAX_ITERATIONS = config.int("LOOP_MAX_ITERATIONS", 1000, minimum=1)
SCREENSHOT_POLICY = config.str("SCREENSHOT_POLICY", "on_failure", choices=("never", "on_failure", "always"))
EXECUTION_TIME_LIMIT_SECONDS = config.int("EXECUTION_TIME_LIMIT_SECONDS", 900, minimum=5)
# A running execution whose heartbeat is older than this is considered lost with its worker.
EXECUTION_HEARTBEAT_TIMEOUT_SECONDS = config.int("EXECUTION_HEARTBEAT_TIMEOUT_SECONDS", 60, minimum=2)
EXECUTION_SWEEP_INTERVAL_SECONDS = config.int("EXECUTION_SWEEP_INTERVAL_SECONDS", 15, minimum=1)
# The worker beats from a background thread too, so a long step is never mistaken for a lost worker.
EXECUTION_HEARTBEAT_INTERVAL_SECONDS = max(1, min(10, EXECUTION_HEARTBEAT_TIMEOUT_SECONDS // 4))
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if not CELERY_BROKER_URL.startswith("filesystem://"):
    # Redis redelivers an unacknowledged task after this long: it must outlast the longest execution.
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = max(3600, 2 * EXECUTION_TIME_LIMIT_SECONDS)
CELERY_BEAT_SCHEDULE["executions-sweep"] = {
    "task": "executions.tasks.executions_sweep",
    "schedule": float(EXECUTION_SWEEP_INTERVAL_SECONDS),
}
# Notifications owed by finished runs but never handed to the broker (it was down) go out here.
CELERY_BEAT_SCHEDULE["notifications-sweep"] = {
    "task": "notifications.tasks.notifications_sweep",
    "schedule": float(EXECUTION_SWEEP_INTERVAL_SECONDS),
}

# --- Notifications and e-mail ---------------------------------------------------------------
# E-mail channels send through Django's backend: SMTP when EMAIL_HOST is set, otherwise printed
# to the worker's log (development).
EMAIL_HOST = config.str("EMAIL_HOST", "")
EMAIL_PORT = config.int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = config.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = config.secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = config.bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = config.bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigError("EMAIL_USE_TLS and EMAIL_USE_SSL are both on: set at most one of them")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = SERVER_EMAIL = config.str("EMAIL_FROM", "JBTestSuite <jbtestsuite@localhost>")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
# A failed delivery (network error, 5xx, 429) is tried again after base, 2 x base, 4 x base... seconds.
NOTIFICATION_MAX_ATTEMPTS = config.int("NOTIFICATION_MAX_ATTEMPTS", 5, minimum=1)
# Webhook and Slack targets inside the network are refused (loopback, private, link-local,
# metadata) unless listed here: host names, *.example.com, IPs or CIDR networks.
NOTIFICATION_ALLOWED_HOSTS = config.list("NOTIFICATION_ALLOWED_HOSTS", [])
NOTIFICATION_RETRY_BASE_SECONDS = config.int("NOTIFICATION_RETRY_BASE_SECONDS", 10, minimum=1)

# --- AI, uploads ----------------------------------------------------------------------------
OPENAI_API_KEY = config.secret("OPENAI_API_KEY")
OPENAI_BASE_URL = config.url("OPENAI_BASE_URL", "", schemes=("http", "https"))
OPENAI_MODEL = config.str("OPENAI_MODEL", "gpt-4o-mini")
# The model that reads screenshots when explaining failures; default: OPENAI_MODEL.
OPENAI_VISION_MODEL = config.str("OPENAI_VISION_MODEL", "") or OPENAI_MODEL
OPENAI_TIMEOUT_SECONDS = config.int("OPENAI_TIMEOUT_SECONDS", 60, minimum=1)
# Extra tries after a 429 or 5xx answer (or a dropped connection), waiting base, 2 x base... seconds.
OPENAI_MAX_RETRIES = config.int("OPENAI_MAX_RETRIES", 3, minimum=0)
OPENAI_RETRY_BASE_MS = config.int("OPENAI_RETRY_BASE_MS", 1000, minimum=0)
# How the answer's schema is enforced: structured (json_schema), tools (a forced function call)
# or json (JSON mode + our validation, for servers that cannot enforce a schema).
OPENAI_RESPONSE_FORMAT = config.str("OPENAI_RESPONSE_FORMAT", "structured", choices=("structured", "tools", "json"))
# Whether the generation model takes images (the page screenshot goes with each snapshot).
OPENAI_SEND_IMAGES = config.bool("OPENAI_SEND_IMAGES", True)
# US dollars per million tokens, for the cost estimate kept with each job.
_prices = config.str("OPENAI_PRICE_PER_MILLION_TOKENS", "0.15,0.60")
try:
    OPENAI_PRICE_INPUT, OPENAI_PRICE_OUTPUT = (float(part) for part in _prices.split(","))
except ValueError:
    raise ConfigError(
        f"OPENAI_PRICE_PER_MILLION_TOKENS={_prices!r} is invalid: expected input,output prices such as 0.15,0.60"
    ) from None
ASSISTANT_DAILY_TOKEN_BUDGET = config.int("ASSISTANT_DAILY_TOKEN_BUDGET", 500_000, minimum=0)
ASSISTANT_TIME_LIMIT_SECONDS = config.int("ASSISTANT_TIME_LIMIT_SECONDS", 600, minimum=10)
# Model turns (observe, act) a generation may take before it stops with its partial steps.
ASSISTANT_MAX_TURNS = config.int("ASSISTANT_MAX_TURNS", 12, minimum=1)
ASSISTANT_MAX_STEPS = config.int("ASSISTANT_MAX_STEPS", 40, minimum=1)
# A job still running this long after its hard time limit lost its worker: the sweep ends it.
CELERY_BEAT_SCHEDULE["assistant-jobs-sweep"] = {"task": "assistant.tasks.jobs_sweep", "schedule": 60.0}
UPLOAD_DIR = Path(config.str("UPLOAD_DIR", str(DATA_DIR / "uploads"))).resolve()
MAX_UPLOAD_SIZE = config.int("MAX_UPLOAD_SIZE", 10 * 1024 * 1024, minimum=1)
ALLOWED_FILE_TYPES = config.list(
    "ALLOWED_FILE_TYPES",
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/html",
        "application/json",
    ],
)
ARTIFACT_RETENTION_DAYS = config.int("ARTIFACT_RETENTION_DAYS", 30, minimum=1)
MEDIA_ROOT = UPLOAD_DIR
# Never served as is: files are only reachable through the access-checked download views.
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
_FILESYSTEM_STORAGE = "django.core.files.storage.FileSystemStorage"
STORAGE_BACKEND = config.str("STORAGE_BACKEND", _FILESYSTEM_STORAGE)
# A JSON object of the backend's options (for S3: bucket_name, region_name, access_key, secret_key...).
_storage_options = config.secret("STORAGE_OPTIONS", "{}")
try:
    STORAGE_OPTIONS = json.loads(_storage_options)
except ValueError:
    STORAGE_OPTIONS = None
if not isinstance(STORAGE_OPTIONS, dict):
    raise ConfigError("STORAGE_OPTIONS is invalid: expected a JSON object")
if STORAGE_BACKEND == _FILESYSTEM_STORAGE:
    STORAGE_OPTIONS = {"location": str(UPLOAD_DIR), **STORAGE_OPTIONS}

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# The workspace's own CSS and JS (the step editor, self-refreshing run pages).
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": STORAGE_BACKEND, "OPTIONS": STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_DEPLOYED
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = config.bool("SECURE_SSL_REDIRECT", IS_DEPLOYED)
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^health(/ready)?$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = config.bool("SECURE_COOKIES", IS_DEPLOYED)
SECURE_HSTS_SECONDS = config.int("SECURE_HSTS_SECONDS", 31_536_000 if IS_DEPLOYED else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = config.str("LOG_LEVEL", _PROFILE["log_level"], choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOG_FORMAT = config.str("LOG_FORMAT", _PROFILE["log_format"], choices=("json", "console"))
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False

# --- Admin user for `make run` (read by the ensure_admin command) ---------------------------
ADMIN_USERNAME = config.str("ADMIN_USERNAME", "admin")
ADMIN_EMAIL = config.str("ADMIN_EMAIL", "admin@localhost")
ADMIN_PASSWORD = config.secret("ADMIN_PASSWORD")
