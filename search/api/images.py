"""Browsing the collection: list with filters and cursor pagination, one image, its file; staff edit and delete."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScope
from search.api import examples
from search.api.common import StrictSerializer, TimedApiView, request_data
from search.api.search import SearchFiltersSerializer, filter_scope
from search.files import CONTENT_TYPES, DOWNLOAD_FORMATS, download_response
from search.models import Image, ImageSource
from search.selectors.images import IMAGE_SORTS, ImageFilters, image_get, image_list
from search.selectors.jobs import job_snapshot
from search.selectors.vector import image_url
from search.services.curation import image_update
from search.services.images import image_delete
from search.services.uploads import images_upload

DOWNLOAD_TYPES = sorted(set(CONTENT_TYPES.values()))


class ImagePagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        self.page_size = settings.API_PAGE_SIZE
        return super().get_page_size(request)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except Exception as error:  # DRF raises NotFound("Invalid cursor"); it is the client's field that is wrong
            raise serializers.ValidationError(
                {"cursor": ["Invalid cursor: use the `next` or `previous` link."]}
            ) from error


class ImageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    thumbnail_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.CharField()
    byte_size = serializers.IntegerField()
    source = serializers.CharField()
    source_url = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_blank=True)
    caption = serializers.CharField(allow_blank=True)
    caption_curated = serializers.BooleanField()
    model = serializers.CharField(source="embedding_model", allow_blank=True)
    hidden = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    taken_at = serializers.DateTimeField(allow_null=True, help_text="when the photo was taken (EXIF), in UTC")
    taken_offset = serializers.CharField(allow_blank=True, help_text="the camera's UTC offset")
    camera_make = serializers.CharField(allow_blank=True)
    camera_model = serializers.CharField(allow_blank=True)
    lens = serializers.CharField(allow_blank=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)

    def get_thumbnail_url(self, image: Image) -> str:
        return image_url(image.id, "thumbnail")

    def get_url(self, image: Image) -> str:
        return reverse("api:image_download", args=[image.id])


class CanAddImages(BasePermission):
    message = "Adding images to the shared collection needs the search.add_image permission."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("search.add_image")


class UploadOutcomeSerializer(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["added", "present", "refused", "failed", "queued"],
        help_text="added; present (same content already indexed); refused (not accepted: see reason); failed; "
        "queued (in the background job)",
    )
    reason = serializers.CharField(allow_blank=True)
    image_id = serializers.IntegerField(allow_null=True)


class JobSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="job")
    kind = serializers.CharField()
    state = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    processed = serializers.IntegerField()
    message = serializers.CharField(allow_blank=True)
    url = serializers.SerializerMethodField()

    def get_url(self, snapshot: dict) -> str:
        return reverse("api:job_detail", args=[snapshot["job"]])


class ImageUploadApi:
    """The POST of /api/images/ (ImageListApi): its serializers and the answer, kept apart from browsing."""

    class InputSerializer(StrictSerializer):
        files = serializers.ListField(
            child=serializers.FileField(allow_empty_file=True),
            min_length=1,
            help_text="one or several image files (repeat the `files` field)",
        )
        category = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")

    class OutputSerializer(serializers.Serializer):
        results = UploadOutcomeSerializer(many=True)
        job = JobSerializer(allow_null=True, help_text="the background job ingesting a large batch; null otherwise")

    @classmethod
    def respond(cls, request) -> Response:
        serializer = cls.InputSerializer(data=request_data(request, list_fields=("files",)))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = images_upload(data["files"], user=request.user, category=data["category"])
        body = {"results": result.outcomes, "job": job_snapshot(result.job) if result.job else None}
        code = status.HTTP_202_ACCEPTED if result.job else status.HTTP_201_CREATED
        return Response(cls.OutputSerializer(body).data, status=code)


class ImageListApi(TimedApiView):
    """The images you may see (staff: hidden ones too), newest first or by date taken, a cursor page at a time."""

    class FilterSerializer(SearchFiltersSerializer):
        category = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="blank: none")
        source = serializers.ChoiceField(required=False, choices=ImageSource.choices)
        bbox = serializers.CharField(required=False, max_length=200, help_text="south,west,north,east in degrees")
        sort = serializers.ChoiceField(
            choices=list(IMAGE_SORTS),
            default="added",
            required=False,
            help_text="added: newest first; taken / taken_oldest: by date taken (undated photos left out)",
        )
        model = serializers.CharField(required=False, max_length=300, help_text="embedding model key")
        captioned = serializers.BooleanField(required=False, allow_null=True, default=None)
        hidden = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="staff only")
        cursor = serializers.CharField(required=False, max_length=1000, help_text="from `next` / `previous`")
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=ImagePagination.max_page_size)

    class OutputSerializer(serializers.Serializer):
        next = serializers.CharField(allow_null=True)
        previous = serializers.CharField(allow_null=True)
        results = ImageOutputSerializer(many=True)

    @extend_schema(
        operation_id="images_list",
        parameters=[FilterSerializer],
        responses=OutputSerializer,
        examples=examples.IMAGE_LIST,
    )
    def get(self, request):
        serializer = self.FilterSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "bbox" in data:
            data["bbox"] = _bbox(data["bbox"])
        filters = ImageFilters(
            category=data.get("category"),
            source=data.get("source", ""),
            model=data.get("model", ""),
            captioned=data["captioned"],
            hidden=data["hidden"],
            photo=filter_scope(data)["photo"],
            sort=data["sort"],
        )
        paginator = ImagePagination()
        paginator.ordering = IMAGE_SORTS[filters.sort]
        page = paginator.paginate_queryset(image_list(user=request.user, filters=filters), request, view=self)
        return paginator.get_paginated_response(ImageOutputSerializer(page, many=True).data)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated(), TokenScope(), CanAddImages()]
        return [IsAuthenticated(), TokenScope()]

    @extend_schema(
        operation_id="images_upload",
        request={"multipart/form-data": ImageUploadApi.InputSerializer},
        responses={201: ImageUploadApi.OutputSerializer, 202: ImageUploadApi.OutputSerializer},
        examples=examples.IMAGE_UPLOAD,
    )
    def post(self, request):
        """Add images to the collection, each checked like a folder ingest (content, size, pixels, duplicates):
        a small batch answers 201 with each file's outcome; a larger one 202 with the job ingesting it."""
        return ImageUploadApi.respond(request)


class ImageDetailApi(TimedApiView):
    """One image; staff may edit its caption, category and visibility, or delete it (row, vector and files)."""

    class UpdateSerializer(StrictSerializer):
        caption = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
        category = serializers.CharField(required=False, allow_blank=True, max_length=100)
        hidden = serializers.BooleanField(required=False)

    def get_permissions(self):
        if self.request.method in ("PATCH", "DELETE"):
            return [IsAuthenticated(), IsAdminUser(), TokenScope()]
        return [IsAuthenticated(), TokenScope()]

    @extend_schema(responses=ImageOutputSerializer, examples=examples.IMAGE_DETAIL)
    def get(self, request, image_id: int):
        return Response(ImageOutputSerializer(_image_or_404(request, image_id)).data)

    @extend_schema(request=UpdateSerializer, responses=ImageOutputSerializer, examples=examples.IMAGE_UPDATE)
    def patch(self, request, image_id: int):
        image = _image_or_404(request, image_id)
        serializer = self.UpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = image_update(image=image, user=request.user, **serializer.validated_data)
        return Response(ImageOutputSerializer(image).data)

    @extend_schema(responses={204: None}, examples=examples.IMAGE_DELETE)
    def delete(self, request, image_id: int):
        image_delete(image=_image_or_404(request, image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageDownloadApi(TimedApiView):
    """The image file: `format=original` (default) as stored, or `format=jpeg` re-encoded."""

    class QuerySerializer(StrictSerializer):
        format = serializers.ChoiceField(choices=DOWNLOAD_FORMATS, default="original", required=False)

    @extend_schema(
        parameters=[QuerySerializer],
        responses={(200, media_type): OpenApiTypes.BINARY for media_type in DOWNLOAD_TYPES},
        examples=examples.IMAGE_DOWNLOAD,
    )
    def get(self, request, image_id: int):
        serializer = self.QuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        return download_response(_image_or_404(request, image_id), fmt=serializer.validated_data["format"])


def _bbox(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise serializers.ValidationError({"bbox": ["Four numbers: south,west,north,east."]}) from None


def _image_or_404(request, image_id: int) -> Image:
    try:
        return image_get(user=request.user, image_id=image_id)
    except Image.DoesNotExist:
        raise Http404(f"No image {image_id}.") from None
