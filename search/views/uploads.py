"""The upload page: drop or pick photos; the page sends them to POST /api/images/ and shows each file's outcome."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from search.imagefiles import FILE_EXTENSIONS
from search.selectors.search import categories


@login_required
@permission_required("search.add_image", raise_exception=True)  # it adds images to everyone's collection
@require_GET
def upload(request: HttpRequest) -> HttpResponse:
    limits = {
        "file_bytes": settings.IMAGE_MAX_BYTES,
        "request_bytes": settings.UPLOAD_BATCH_MAX_BYTES,
        "request_files": settings.UPLOAD_BATCH_MAX_FILES,
        "sync_files": settings.UPLOAD_SYNC_MAX_FILES,
        "extensions": sorted(FILE_EXTENSIONS),
    }
    return render(request, "search/upload.html", {"limits": limits, "categories": categories()})
