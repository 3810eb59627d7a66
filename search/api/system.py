"""Health (no authentication) and statistics."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from search.api import examples
from search.api.common import ApiView
from search.api.latency import recorder
from search.health import system_health
from search.selectors.images import collection_stats


class PercentilesSerializer(serializers.Serializer):
    p50 = serializers.FloatField()
    p95 = serializers.FloatField()
    p99 = serializers.FloatField()


class EndpointLatencySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    encode = PercentilesSerializer(required=False)
    search = PercentilesSerializer(required=False)
    total = PercentilesSerializer(required=False)


# What search.health's checks report besides `ok`; each part has only its own (the encoder: model, device, ...).
HEALTH_CHECK_FIELDS = {
    "ok": serializers.BooleanField(),
    "error": serializers.CharField(required=False, help_text="why the part is failing"),
    "vendor": serializers.CharField(required=False, help_text="database"),
    "version": serializers.CharField(required=False, help_text="vector_extension: pgvector's version"),
    "model": serializers.CharField(required=False, help_text="encoder: the model key"),
    "device": serializers.CharField(required=False, help_text="encoder"),
    "dim": serializers.IntegerField(required=False, help_text="encoder: vector size"),
    "precision": serializers.CharField(required=False, help_text="encoder: float32 or bfloat16 weights"),
    "text_path": serializers.CharField(
        required=False, help_text="encoder: query texts' tower: int8, bfloat16 or float32"
    ),
    "url": serializers.CharField(required=False, help_text="broker, without its password"),
}


class HealthApi(ApiView):
    """Liveness and readiness: database, pgvector, the encoder (model, device) and the broker when one is configured.
    200 when every part is ok, 503 naming the failing parts."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # probes poll often; nothing here is expensive after the first call

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["ok", "failing"])
        failing = serializers.ListField(child=serializers.CharField())
        checks = serializers.DictField(
            child=inline_serializer("HealthCheck", HEALTH_CHECK_FIELDS),
            help_text="per part: ok, error when failing, and the details of that part",
        )

    @extend_schema(responses={200: OutputSerializer, 503: OutputSerializer}, examples=examples.HEALTH)
    def get(self, request):
        report = system_health()
        return Response(report, status=503 if report["failing"] else 200)


class StatsApi(ApiView):
    """Collection size by model, and latency percentiles (ms) per endpoint over the recent requests of this process."""

    class OutputSerializer(serializers.Serializer):
        class CollectionSerializer(serializers.Serializer):
            total = serializers.IntegerField()
            hidden = serializers.IntegerField()
            by_model = serializers.DictField(child=serializers.IntegerField(), help_text="model key -> images")

        collection = CollectionSerializer()
        latency_ms = serializers.DictField(child=EndpointLatencySerializer(), help_text="endpoint -> percentiles")
        window = serializers.IntegerField(help_text="requests per endpoint the percentiles are computed over")

    @extend_schema(responses=OutputSerializer, examples=examples.STATS)
    def get(self, request):
        body = {
            "collection": collection_stats(),
            "latency_ms": recorder.summary(),
            "window": settings.API_LATENCY_WINDOW,
        }
        return Response(self.OutputSerializer(body).data)


@extend_schema(exclude=True)
class NotFoundApi(ApiView):
    """Any other path under /api/: a JSON 404, like every other API error (Django's own 404 page is HTML)."""

    permission_classes = [AllowAny]

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise NotFound(f"No API endpoint at {request.path}; see /api/docs/.")

    def get(self, request, *args, **kwargs):
        self.http_method_not_allowed(request)
