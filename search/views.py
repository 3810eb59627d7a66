"""HTML views: translate the form, call the search module, render."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from search.forms import SearchForm
from search.models import Image
from search.selectors import InvalidQuery, SearchRequest, categories, load_query_image, search_images


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    form = SearchForm(data or None, request.FILES or None)
    results = None
    status = 200
    if form.is_bound and form.is_valid():
        try:
            results = search_images(_search_request(form))
        except InvalidQuery as error:
            form.add_error("image" if error.field == "image" else None, error.message)
    if form.is_bound and form.errors:
        status = 400
    context = {"form": form, "results": results, "categories": categories()}
    return render(request, "search/home.html", context, status=status)


def _search_request(form: SearchForm) -> SearchRequest:
    data = form.cleaned_data
    upload = data.get("image")
    return SearchRequest(
        text=data.get("q") or "",
        image=load_query_image(upload.read()) if upload else None,
        image_weight=data.get("image_weight"),
        top_k=data.get("k") or settings.SEARCH_DEFAULT_TOP_K,
        min_score=data.get("min_score"),
        category=data.get("category") or "",
    )


def thumbnail(request: HttpRequest, image_id: int) -> FileResponse:
    image = get_object_or_404(Image.objects.visible(), id=image_id)
    return _file_response(image.thumbnail, "image/jpeg")


def original(request: HttpRequest, image_id: int) -> FileResponse:
    image = get_object_or_404(Image.objects.visible(), id=image_id)
    content_type = mimetypes.guess_type(image.file.name)[0] or "application/octet-stream"
    return _file_response(image.file, content_type)


def _file_response(field_file, content_type: str) -> FileResponse:
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404("The file of this image is missing.") from None
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
