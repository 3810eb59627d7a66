"""Pieces every API view shares: strict input serializers, upload reading, latency recording, the hit shape."""

from __future__ import annotations

import time
from collections.abc import Mapping

from django.conf import settings
from rest_framework import exceptions, serializers
from rest_framework.views import APIView

from search.api.latency import recorder
from search.errors import InvalidQuery
from search.untrusted import load_json


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare, so a misspelt option is an error rather than silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown}, code="unknown")
        return super().to_internal_value(data)


def request_data(request, *, json_fields: tuple[str, ...] = (), list_fields: tuple[str, ...] = ()) -> object:
    """The request body for an input serializer. Multipart forms cannot nest, so there `json_fields` may hold a
    JSON-encoded object, and `list_fields` repeat the key (or hold a JSON array); both are decoded here."""
    data = request.data
    if not hasattr(data, "getlist"):
        return data
    plain = {key: data.get(key) for key in data}
    for name in list_fields:
        values = data.getlist(name)
        if len(values) == 1 and isinstance(values[0], str) and values[0].lstrip().startswith("["):
            plain[name] = _json(name, values[0])
        elif values:
            plain[name] = values
    for name in json_fields:
        if isinstance(plain.get(name), str):
            plain[name] = _json(name, plain[name])
    return plain


def _json(name: str, text: str):
    try:
        return load_json(text, max_depth=settings.JSON_MAX_DEPTH, field=name)
    except InvalidQuery as error:
        raise serializers.ValidationError({name: [f"Expected JSON: {error.message}"]}, code="invalid") from None


def read_upload(upload, field: str = "image") -> bytes:
    """The bytes of an uploaded file, refusing one over UPLOAD_MAX_BYTES before reading it into memory."""
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise serializers.ValidationError({field: [f"The file is {upload.size:,} bytes; the limit is {limit:,}."]})
    return upload.read()


class ApiView(APIView):
    """Throttles anonymous and wrongly authenticated requests before refusing them (DRF checks permissions first,
    so a client guessing keys or hammering without credentials would never meet its rate)."""

    def perform_authentication(self, request):
        try:
            request.user  # noqa: B018 - authenticates
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)  # request.user is anonymous now: the address's rate applies
            raise

    def check_permissions(self, request):
        if not request.user.is_authenticated:
            self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request):
        if getattr(self, "_throttles_checked", False):
            return
        self._throttles_checked = True
        super().check_throttles(request)


class TimedApiView(ApiView):
    """Records each successful request's latency (encode, search, total) under `latency_name` for /api/stats/."""

    latency_name = ""

    def initial(self, request, *args, **kwargs):
        self.started = time.perf_counter()
        self.timings_ms: dict[str, float] = {}
        super().initial(request, *args, **kwargs)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.latency_name and response.status_code < 400 and hasattr(self, "started"):
            recorder.record(self.latency_name, {**self.timings_ms, "total": self.elapsed_ms()})
        return response


class HitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.FloatField(help_text="cosine similarity, -1..1 (higher is closer)")
    thumbnail_url = serializers.CharField()
    url = serializers.CharField(help_text="the original file")
    caption = serializers.CharField(allow_blank=True)
    category = serializers.CharField(allow_blank=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class LatencySerializer(serializers.Serializer):
    encode = serializers.FloatField()
    search = serializers.FloatField()
    total = serializers.FloatField()
