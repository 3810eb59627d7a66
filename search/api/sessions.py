"""Search sessions: the same refinement turns as the web pages, through the same services. Users see only their own."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from search.api import examples
from search.api.common import HitSerializer, StrictSerializer, TimedApiView, read_upload, request_data
from search.models import SearchTurn
from search.query import MAX_ID, MAX_JUDGED_PER_TURN, MAX_TEXT_LENGTH, MAX_TOP_K
from search.refinement import MAX_WEIGHT
from search.selectors.sessions import session_get_for_user, turn_hits, turn_list, turn_to_refine
from search.services.sessions import session_create, turn_create_with_upload


class TurnOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    parent = serializers.IntegerField(source="parent.position", allow_null=True, default=None, help_text="position")
    kind = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    query_text = serializers.CharField(allow_blank=True, help_text="the text query in force after this turn")
    image_weight = serializers.FloatField(allow_null=True)
    relevant_ids = serializers.ListField(child=serializers.IntegerField())
    not_relevant_ids = serializers.ListField(child=serializers.IntegerField())
    weights = serializers.DictField(child=serializers.FloatField())
    model = serializers.CharField(source="model_key")
    results = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(HitSerializer(many=True))
    def get_results(self, turn: SearchTurn) -> list:
        return HitSerializer(turn_hits(turn), many=True).data


class SessionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    turns = serializers.SerializerMethodField()

    @extend_schema_field(TurnOutputSerializer(many=True))
    def get_turns(self, session) -> list:
        return TurnOutputSerializer(turn_list(session=session), many=True).data


class SessionCreateApi(TimedApiView):
    """Start an empty session; ask its first query with POST /api/sessions/{id}/turns/."""

    class InputSerializer(StrictSerializer):
        title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    @extend_schema(request=InputSerializer, responses={201: SessionOutputSerializer}, examples=examples.SESSION_CREATE)
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_create(user=request.user, title=serializer.validated_data["title"])
        return Response(SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetailApi(TimedApiView):
    """One of your sessions with every turn and the results each showed."""

    @extend_schema(responses=SessionOutputSerializer, examples=examples.SESSION_DETAIL)
    def get(self, request, session_id: int):
        session = session_get_for_user(user=request.user, session_id=session_id)
        return Response(SessionOutputSerializer(session).data)


class TurnCreateApi(TimedApiView):
    """A turn: a new query (text and/or image), or a refinement of `parent` (default: the last turn) with feedback
    text, relevance judgements or "more like this" image."""

    latency_name = "session_turn"

    class InputSerializer(StrictSerializer):
        class WeightsSerializer(StrictSerializer):
            alpha = serializers.FloatField(required=False, min_value=0.0, max_value=MAX_WEIGHT)
            beta = serializers.FloatField(required=False, min_value=0.0, max_value=MAX_WEIGHT)
            gamma = serializers.FloatField(required=False, min_value=0.0, max_value=MAX_WEIGHT)
            feedback = serializers.FloatField(required=False, min_value=0.0, max_value=MAX_WEIGHT)
            negative = serializers.FloatField(required=False, min_value=0.0, max_value=MAX_WEIGHT)

        text = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT_LENGTH, default="")
        image = serializers.FileField(required=False, help_text="multipart only: an example image")
        image_weight = serializers.FloatField(required=False, allow_null=True, min_value=0.0, max_value=1.0)
        feedback = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT_LENGTH, default="")
        relevant_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
            required=False,
            max_length=MAX_JUDGED_PER_TURN,
        )
        not_relevant_ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
            required=False,
            max_length=MAX_JUDGED_PER_TURN,
        )
        more_like_image_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
        parent = serializers.IntegerField(required=False, allow_null=True, min_value=1, help_text="turn position")
        top_k = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TOP_K, default=24)
        show_judged = serializers.BooleanField(required=False, default=False)
        weights = WeightsSerializer(required=False, help_text="refinement weights; in multipart, JSON-encoded")

    @extend_schema(
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={201: TurnOutputSerializer},
        examples=examples.TURN_CREATE,
    )
    def post(self, request, session_id: int):
        session = session_get_for_user(user=request.user, session_id=session_id)
        data = request_data(request, json_fields=("weights",), list_fields=("relevant_ids", "not_relevant_ids"))
        serializer = self.InputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        options = dict(serializer.validated_data)
        upload = options.pop("image", None)
        options["parent"] = turn_to_refine(session=session, position=options.pop("parent", None))
        turn = turn_create_with_upload(
            session=session,
            data=read_upload(upload) if upload else None,
            original_name=upload.name if upload else "",
            **options,
        )
        return Response(TurnOutputSerializer(turn).data, status=status.HTTP_201_CREATED)
