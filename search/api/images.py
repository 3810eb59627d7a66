"""Browsing the collection: list with filters and cursor pagination, one image, its file; staff edit and delete."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScope
from search.api import examples
from search.api.common import StrictSerializer, TimedApiView
from search.files import DOWNLOAD_FORMATS, download_response
from search.models import Image, ImageSource
from search.selectors.images import ImageFilters, image_get, image_list
from search.selectors.vector import image_url
from search.services.curation import image_update
from search.services.images import image_delete

DOWNLOAD_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp", "image/tiff"]


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

    def get_thumbnail_url(self, image: Image) -> str:
        return image_url(image.id, "thumbnail")

    def get_url(self, image: Image) -> str:
        return reverse("api:image_download", args=[image.id])


class ImageListApi(TimedApiView):
    """The images you may see (staff: hidden ones too), newest first, a cursor page at a time."""

    class FilterSerializer(StrictSerializer):
        category = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="blank: none")
        source = serializers.ChoiceField(required=False, choices=ImageSource.choices)
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
        filters = ImageFilters(
            category=data.get("category"),
            source=data.get("source", ""),
            model=data.get("model", ""),
            captioned=data["captioned"],
            hidden=data["hidden"],
        )
        paginator = ImagePagination()
        page = paginator.paginate_queryset(image_list(user=request.user, filters=filters), request, view=self)
        return paginator.get_paginated_response(ImageOutputSerializer(page, many=True).data)


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


def _image_or_404(request, image_id: int) -> Image:
    try:
        return image_get(user=request.user, image_id=image_id)
    except Image.DoesNotExist:
        raise Http404(f"No image {image_id}.") from None
