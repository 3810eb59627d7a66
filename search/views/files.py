"""Image files for signed-in users: thumbnails, originals, downloads (original or JPEG) and zips of several."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from search.files import download_response, file_response, zip_response
from search.forms import DownloadForm, ZipDownloadForm
from search.models import Image


@login_required
@require_GET
def thumbnail(request: HttpRequest, image_id: int) -> FileResponse:
    return file_response(get_object_or_404(Image.objects.visible(), id=image_id).thumbnail)


@login_required
@require_GET
def original(request: HttpRequest, image_id: int) -> FileResponse:
    return file_response(get_object_or_404(Image.objects.visible(), id=image_id).file)


@login_required
@require_GET
def download(request: HttpRequest, image_id: int) -> HttpResponse:
    """One image as an attachment: ?format=original (default) or ?format=jpeg."""
    image = get_object_or_404(Image.objects.visible(), id=image_id)
    form = DownloadForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("format must be 'original' or 'jpeg'.")
    return download_response(image, fmt=form.cleaned_data["format"])


@login_required
@require_GET
def download_zip(request: HttpRequest) -> HttpResponse:
    """Several images (?ids=1&ids=2..., &format=jpeg) as one zip; hidden or unknown ids are left out."""
    form = ZipDownloadForm(request.GET)
    if not form.is_valid():
        message = " ".join(error for errors in form.errors.values() for error in errors)
        context = {"status": 400, "title": "Nothing to download yet", "message": message, "back": _back(request)}
        return render(request, "error.html", context, status=400)
    ids = form.cleaned_data["ids"]
    found = Image.objects.visible().defer("caption_embedding").in_bulk(ids)
    if not found:
        raise Http404("None of these images exist.")
    return zip_response([found[i] for i in ids if i in found], fmt=form.cleaned_data["format"])


def _back(request: HttpRequest) -> str:
    """The page the request came from, when it is one of ours: where "Back" leads."""
    referer = request.headers.get("referer", "")
    return referer if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else ""
