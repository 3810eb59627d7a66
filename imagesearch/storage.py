"""Which storage holds image files: a folder on this host, or an S3-compatible bucket (AWS S3, MinIO, R2, ...)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from imagesearch.env import env_bool, env_str
from imagesearch.optional import MissingOptionalPackage, installed, missing_message


def media_storage(kind: str) -> dict:
    """The STORAGES["default"] entry for `kind` ("filesystem" or "s3"), from the environment."""
    if kind == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"allow_overwrite": True}}
    if not installed("storages"):
        raise MissingOptionalPackage(missing_message("django-storages", "s3"))
    bucket = env_str("S3_BUCKET")
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET")
    options = {
        "bucket_name": bucket,
        "endpoint_url": env_str("S3_ENDPOINT_URL") or None,  # unset: AWS itself
        "region_name": env_str("S3_REGION") or None,
        "access_key": env_str("S3_ACCESS_KEY_ID") or None,  # unset: the host's role or AWS_* variables
        "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
        "location": env_str("S3_PREFIX", ""),
        # Images are private: links are signed, short-lived, and files are never public by ACL.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        # Names derive from the content hash: writing the same name again writes the same bytes.
        "file_overwrite": True,
        "addressing_style": "path" if env_bool("S3_PATH_STYLE", False) else None,
    }
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {k: v for k, v in options.items() if v is not None}}
