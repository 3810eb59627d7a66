"""Search and encoding endpoints: text / image / combined search, image → captions, and raw vectors."""

from __future__ import annotations

import time

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from search.api import examples
from search.api.common import (
    HitSerializer,
    LatencySerializer,
    StrictSerializer,
    TimedApiView,
    read_upload,
    request_data,
)
from search.api.cursors import next_cursor, request_after
from search.encoder import get_encoder
from search.models import ImageSource
from search.query import MAX_TEXT_LENGTH, MAX_TOP_K, SEARCH_MODES, PhotoFilters, SearchRequest, load_upload
from search.result_cache import CachedTextEncoder, search_cached
from search.selectors.search import search_captions_by_image

MAX_ENCODE_TEXTS = 32
JSON_AND_MULTIPART = ["application/json", "multipart/form-data"]


class SearchFiltersSerializer(StrictSerializer):
    category = serializers.CharField(required=False, allow_blank=True, max_length=100)
    source = serializers.ChoiceField(required=False, allow_blank=True, choices=ImageSource.choices)
    taken_after = serializers.DateTimeField(required=False, help_text="ISO 8601; a date alone is its midnight UTC")
    taken_before = serializers.DateTimeField(required=False)
    camera = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="part of make/model")
    has_location = serializers.BooleanField(required=False, allow_null=True, default=None)
    bbox = serializers.ListField(
        child=serializers.FloatField(),
        min_length=4,
        max_length=4,
        required=False,
        help_text="[south, west, north, east] in degrees; west > east spans the 180th meridian",
    )


def filter_scope(filters: dict) -> dict:
    """SearchScope fields from validated search filters."""
    photo = PhotoFilters(
        taken_after=filters.get("taken_after"),
        taken_before=filters.get("taken_before"),
        camera=filters.get("camera", ""),
        has_location=filters.get("has_location"),
        bbox=tuple(filters["bbox"]) if "bbox" in filters else None,
    )
    return {"category": filters.get("category", ""), "source": filters.get("source", ""), "photo": photo}


class SearchApi(TimedApiView):
    """Text, image or combined search over the visible images embedded with the current model."""

    reads_only = True  # a POST that changes nothing: read-only tokens may use it

    latency_name = "search"

    class InputSerializer(StrictSerializer):
        FiltersSerializer = SearchFiltersSerializer

        query = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT_LENGTH, default="")
        image = serializers.FileField(required=False, help_text="multipart only: an example image")
        top_k = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TOP_K, default=10)
        min_score = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
        image_weight = serializers.FloatField(
            required=False, allow_null=True, min_value=0.0, max_value=1.0, help_text="share of the image, 0..1"
        )
        filters = FiltersSerializer(required=False, help_text="in multipart, a JSON-encoded object")
        cursor = serializers.CharField(
            required=False, max_length=500, help_text="the `next_cursor` of the previous page, with the same query"
        )
        mode = serializers.ChoiceField(
            choices=SEARCH_MODES,
            default="vector",
            required=False,
            help_text="vector: CLIP similarity; hybrid: fused with full-text matches of captions, file names and "
            'categories ("quoted phrases" must appear)',
        )

    class OutputSerializer(serializers.Serializer):
        query = serializers.CharField(allow_blank=True)
        results = HitSerializer(many=True)
        total = serializers.IntegerField()
        model = serializers.CharField()
        latency_ms = LatencySerializer()
        cached = serializers.BooleanField(help_text="the result page came from the short-lived result cache")
        next_cursor = serializers.CharField(
            allow_null=True, help_text="send it with the same query for the following page; null: no more pages"
        )

    @extend_schema(
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses=OutputSerializer,
        examples=examples.SEARCH,
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request_data(request, json_fields=("filters",)))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data.get("image")
        search_request = SearchRequest(
            text=data["query"],
            image=load_upload(read_upload(upload)) if upload else None,
            image_weight=data.get("image_weight"),
            top_k=data["top_k"],
            min_score=data.get("min_score"),
            mode=data["mode"],
            **filter_scope(data.get("filters", {})),
        )
        if data.get("cursor"):
            search_request = request_after(search_request, data["cursor"])
        outcome = search_cached(search_request)
        results = outcome.results
        self.timings_ms = {"encode": results.timings_ms["encode"], "search": results.timings_ms["search"]}
        body = {
            "query": data["query"],
            "results": results.hits,
            "total": len(results.hits),
            "model": results.model_key,
            "latency_ms": {**self.timings_ms, "total": self.elapsed_ms()},
            "cached": outcome.cached,
            "next_cursor": next_cursor(search_request, results),
        }
        return Response(self.OutputSerializer(body).data)


class CaptionSearchApi(TimedApiView):
    """Image → text: the captions in the collection closest to an uploaded image."""

    reads_only = True  # a POST that changes nothing: read-only tokens may use it

    latency_name = "search_captions"
    upload_throttled = True

    class InputSerializer(StrictSerializer):
        image = serializers.FileField()
        top_k = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TOP_K, default=10)

    class OutputSerializer(serializers.Serializer):
        class CaptionSerializer(serializers.Serializer):
            image_id = serializers.IntegerField()
            caption = serializers.CharField(allow_blank=True)
            score = serializers.FloatField()

        results = CaptionSerializer(many=True)
        total = serializers.IntegerField()
        model = serializers.CharField()

    @extend_schema(
        request={"multipart/form-data": InputSerializer}, responses=OutputSerializer, examples=examples.SEARCH_CAPTIONS
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request_data(request))
        serializer.is_valid(raise_exception=True)
        loaded = load_upload(read_upload(serializer.validated_data["image"]))
        hits = search_captions_by_image(loaded, top_k=serializer.validated_data["top_k"])
        body = {"results": hits, "total": len(hits), "model": get_encoder().model_key}
        return Response(self.OutputSerializer(body).data)


class VectorSerializer(serializers.Serializer):
    model = serializers.CharField()
    dim = serializers.IntegerField()
    vector = serializers.ListField(child=serializers.FloatField(), help_text="L2-normalised")


class EncodeTextApi(TimedApiView):
    """The normalised CLIP text vector of one text, or of several (`texts`), for clients with their own index."""

    reads_only = True  # a POST that changes nothing: read-only tokens may use it

    latency_name = "encode_text"
    upload_throttled = True

    class InputSerializer(StrictSerializer):
        text = serializers.CharField(required=False, max_length=MAX_TEXT_LENGTH)
        texts = serializers.ListField(
            required=False,
            child=serializers.CharField(max_length=MAX_TEXT_LENGTH),
            min_length=1,
            max_length=MAX_ENCODE_TEXTS,
        )

        def validate(self, data):
            if ("text" in data) == ("texts" in data):
                raise serializers.ValidationError({"text": ["Give either `text` or `texts`."]})
            return data

    class OutputSerializer(serializers.Serializer):
        model = serializers.CharField()
        dim = serializers.IntegerField()
        vectors = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))

    @extend_schema(
        request=InputSerializer,
        responses=OutputSerializer,
        examples=examples.ENCODE_TEXT,
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        texts = serializer.validated_data.get("texts") or [serializer.validated_data["text"]]
        encoder = CachedTextEncoder(get_encoder())
        started = time.perf_counter()
        vectors = encoder.encode_text(texts)
        self.timings_ms = {"encode": (time.perf_counter() - started) * 1000}
        body = {"model": encoder.model_key, "dim": int(vectors.shape[1]), "vectors": vectors.tolist()}
        return Response(self.OutputSerializer(body).data)


class EncodeImageApi(TimedApiView):
    """The normalised CLIP image vector of an uploaded image."""

    reads_only = True  # a POST that changes nothing: read-only tokens may use it

    latency_name = "encode_image"
    upload_throttled = True

    class InputSerializer(StrictSerializer):
        image = serializers.FileField()

    @extend_schema(
        request={"multipart/form-data": InputSerializer}, responses=VectorSerializer, examples=examples.ENCODE_IMAGE
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request_data(request))
        serializer.is_valid(raise_exception=True)
        loaded = load_upload(read_upload(serializer.validated_data["image"]))
        encoder = get_encoder()
        started = time.perf_counter()
        vector = encoder.encode_images([loaded.image])[0]
        self.timings_ms = {"encode": (time.perf_counter() - started) * 1000}
        body = {"model": encoder.model_key, "dim": len(vector), "vector": vector.tolist()}
        return Response(VectorSerializer(body).data)
