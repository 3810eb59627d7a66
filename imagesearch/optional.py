"""Optional groups of packages: captions and the language model (transformers), the web fetch (ddgs, aiohttp) and S3
media (django-storages). The core runs without them; a feature that needs one says which file installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from django.core.exceptions import ImproperlyConfigured

GROUPS = {
    "captions": ("requirements-captions.txt", "Captions (CAPTION_MODEL) and the language model (LLM_MODEL)"),
    "web": ("requirements-web.txt", "Fetching images from the web"),
    "s3": ("requirements-s3.txt", "S3 media storage (MEDIA_STORAGE=s3)"),
}


class MissingOptionalPackage(ImproperlyConfigured):
    pass


def missing_message(package: str, group: str) -> str:
    requirements, feature = GROUPS[group]
    return f"{feature} needs the {package!r} package, which is not installed: pip install -r {requirements}"


def require(package: str, group: str) -> ModuleType:
    """Import `package`, or raise MissingOptionalPackage saying which requirements file installs it."""
    try:
        return importlib.import_module(package)
    except ModuleNotFoundError as error:
        if error.name != package.split(".")[0]:
            raise  # the package is there but one of its own imports failed: that error says more
        raise MissingOptionalPackage(missing_message(package, group)) from None


def installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None
