"""OpenAPI examples for every API operation: request and response bodies with the serializers' exact field names.

tests/api/test_api_schema_examples.py checks that every operation has them and that each response example is valid
against the schema of the response it documents, so an example cannot drift from the serializer it shows.
Error bodies are built by search.api.errors.error_body, the function the exception handler answers with.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from search.api.errors import error_body

JSON = "application/json"
MULTIPART = "multipart/form-data"
MODEL = "ViT-B-32:laion2b_s34b_b79k"
# A file part in a multipart example; the schema calls it a binary string.
FILE = "(binary image file, e.g. beach.jpg)"
CREATED_AT = "2025-03-14T09:26:53.589793Z"
UPDATED_AT = "2025-03-14T09:31:07.120455Z"


def request(name: str, value: dict, *, media_types: tuple[str, ...] = (JSON,)) -> list[OpenApiExample]:
    """The same request body, once per media type it is documented for."""
    return [OpenApiExample(name, value=value, request_only=True, media_type=media_type) for media_type in media_types]


def response(name: str, value: dict, *, status: int = 200, summary: str = "") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status)], summary=summary)


def error(name: str, status: int, *problems: tuple[str | None, str, str]) -> OpenApiExample:
    """An error body as the API's exception handler writes it; each problem is (field, code, message)."""
    errors = [{"field": field, "code": code, "message": message} for field, code, message in problems]
    return response(name, error_body(errors), status=status)


# Every operation can answer these; search.api.schema.AutoSchema adds them where a view documents none of its own.
GENERIC_ERRORS = {
    "400": error("Out of range", 400, (None, "invalid", "A value is out of the range the database accepts.")),
    "401": error(
        "Not authenticated", 401, (None, "not_authenticated", "Authentication credentials were not provided.")
    ),
    "403": error("Not allowed", 403, (None, "permission_denied", "You do not have permission to perform this action.")),
    "404": error("Not found", 404, (None, "not_found", "Not found.")),
    "415": error(
        "Unsupported media type",
        415,
        (None, "unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
    ),
    "429": error("Throttled", 429, (None, "throttled", "Request was throttled. Expected available in 12 seconds.")),
}


def hit(image_id: int, score: float, caption: str, category: str = "") -> dict:
    return {
        "id": image_id,
        "score": score,
        "thumbnail_url": f"/images/{image_id}/thumbnail/",
        "url": f"/images/{image_id}/original/",
        "caption": caption,
        "category": category,
        "width": 1024,
        "height": 768,
    }


RED_HITS = [
    hit(412, 0.3127, "a red balloon against a blue sky", "toys"),
    hit(87, 0.2981, "a red circle painted on a white wall"),
]
DOG_HITS = [
    hit(1203, 0.2874, "a golden retriever running on a beach", "pets"),
    hit(977, 0.2652, "a dog catching a frisbee on the sand", "pets"),
]

SEARCH = [
    *request("Text", {"query": "a red circle", "top_k": 5}),
    *request(
        "Filtered",
        {"query": "a dog on a beach", "min_score": 0.2, "filters": {"category": "pets", "source": "web"}},
    ),
    *request(
        "Photo filters",
        {
            "query": "a dog on a beach",
            "filters": {
                "taken_after": "2024-06-01",
                "taken_before": "2024-08-31T23:59:59+02:00",
                "camera": "iphone",
                "has_location": True,
                "bbox": [36.0, -10.0, 44.0, 4.0],
            },
        },
    ),
    *request("Hybrid", {"query": 'a "golden retriever" on a beach', "mode": "hybrid", "top_k": 5}),
    *request("Next page", {"query": "a red circle", "top_k": 5, "cursor": "eyJ2IjoxLCJkIjowLjY5..."}),
    *request("Image", {"image": FILE, "top_k": 5}, media_types=(MULTIPART,)),
    *request(
        "Image and text",
        # In multipart, `filters` travels as a JSON-encoded part.
        {"image": FILE, "query": "at sunset", "image_weight": 0.7, "top_k": 5, "filters": {"category": "pets"}},
        media_types=(MULTIPART,),
    ),
    response(
        "Results",
        {
            "query": "a red circle",
            "results": RED_HITS,
            "total": 2,
            "model": MODEL,
            "latency_ms": {"encode": 6.5, "search": 12.1, "total": 24.1},
            "cached": False,
            "next_cursor": "eyJ2IjoxLCJkIjowLjcwMTksImkiOjg3LCJxIjoiMmI2YzFhZjA5ZTNkNDQ1NSJ9",
        },
        summary="a full page: `next_cursor` continues it",
    ),
    response(
        "Cached results",
        {
            "query": "a red circle",
            "results": RED_HITS,
            "total": 2,
            "model": MODEL,
            "latency_ms": {"encode": 0.0, "search": 0.4, "total": 1.9},
            "cached": True,
            "next_cursor": None,
        },
        summary="the same text query again within API_RESULT_CACHE_SECONDS: no encoding, no vector search",
    ),
    error(
        "Invalid request",
        400,
        ("top_k", "max_value", "Ensure this value is less than or equal to 100."),
        ("filters.colour", "unknown", "Unknown field."),
    ),
    error(
        "Cursor of another query",
        400,
        ("cursor", "invalid", "This cursor belongs to another query: send the same query with it."),
    ),
]

SEARCH_CAPTIONS = [
    *request("Image", {"image": FILE, "top_k": 3}, media_types=(MULTIPART,)),
    response(
        "Captions",
        {
            "results": [
                {"image_id": 1203, "caption": "a golden retriever running on a beach", "score": 0.3312},
                {"image_id": 977, "caption": "a dog catching a frisbee on the sand", "score": 0.2904},
            ],
            "total": 2,
            "model": MODEL,
        },
    ),
    error("No image", 400, ("image", "required", "No file was submitted.")),
]

ENCODE_TEXT = [
    *request("One text", {"text": "a red circle"}, media_types=(JSON, MULTIPART)),
    *request("Several texts", {"texts": ["a red circle", "a dog on a beach"]}),
    response(
        "Vectors",
        {
            "model": MODEL,
            "dim": 512,
            "vectors": [[0.0213, -0.0471, 0.0085, 0.0392], [-0.0127, 0.0566, 0.0301, -0.0048]],
        },
        summary="one vector per text; each shortened here to 4 of its 512 values",
    ),
    error("Neither or both", 400, ("text", "invalid", "Give either `text` or `texts`.")),
]

ENCODE_IMAGE = [
    *request("Image", {"image": FILE}, media_types=(MULTIPART,)),
    response(
        "Vector",
        {"model": MODEL, "dim": 512, "vector": [-0.0362, 0.0482, -0.0783, -0.1392]},
        summary="shortened here to 4 of its 512 values",
    ),
    error("Not an image", 400, ("image", "invalid", "not an image that can be read (unknown or damaged content)")),
]


def image(**changes) -> dict:
    return {
        "id": 412,
        "original_name": "balloon.jpg",
        "thumbnail_url": "/images/412/thumbnail/",
        "url": "/api/images/412/download/",
        "width": 1024,
        "height": 768,
        "format": "JPEG",
        "byte_size": 184213,
        "source": "web",
        "source_url": "https://example.com/photos/balloon.jpg",
        "category": "toys",
        "caption": "a red balloon against a blue sky",
        "caption_curated": False,
        "model": MODEL,
        "hidden": False,
        "created_at": CREATED_AT,
        "taken_at": "2024-06-01T12:30:00Z",
        "taken_offset": "+02:00",
        "camera_make": "Canon",
        "camera_model": "Canon EOS R5",
        "lens": "RF24-105mm F4 L IS USM",
        "latitude": 48.8584,
        "longitude": 2.2945,
        **changes,
    }


NO_IMAGE = error("No such image", 404, (None, "not_found", "No image 412."))

IMAGE_LIST = [
    response(
        "Page",
        {
            "next": "https://images.example.com/api/images/?cursor=cD00MTE%3D&page_size=2",
            "previous": None,
            "results": [
                image(),
                image(
                    id=411,
                    original_name="IMG_2041.png",
                    url="/api/images/411/download/",
                    format="PNG",
                    thumbnail_url="/images/411/thumbnail/",
                    source="upload",
                    source_url="",
                    category="",
                    caption="",
                    model="",
                ),
            ],
        },
        summary="newest first; follow `next` for the following page",
    ),
    error("Bad cursor", 400, ("cursor", "invalid", "Invalid cursor: use the `next` or `previous` link.")),
]

IMAGE_DETAIL = [response("Image", image()), NO_IMAGE]

IMAGE_UPDATE = [
    *request("Caption and category", {"caption": "a red balloon", "category": "party"}, media_types=(JSON, MULTIPART)),
    *request("Hide", {"hidden": True}, media_types=(JSON, MULTIPART)),
    response("Edited", image(caption="a red balloon", category="party", caption_curated=True)),
    error("Unknown field", 400, ("title", "unknown", "Unknown field.")),
    NO_IMAGE,
]

IMAGE_DELETE = [NO_IMAGE]


def job(**changes) -> dict:
    return {
        "id": 31,
        "kind": "upload",
        "state": "running",
        "total": 40,
        "done": 12,
        "skipped": 1,
        "failed": 0,
        "processed": 13,
        "message": "",
        "url": "/api/jobs/31/",
        **changes,
    }


IMAGE_UPLOAD = [
    *request("Files", {"files": [FILE, FILE], "category": "holiday"}, media_types=(MULTIPART,)),
    response(
        "Added now",
        {
            "results": [
                {"name": "beach.heic", "state": "added", "reason": "", "image_id": 413},
                {"name": "beach-copy.heic", "state": "present", "reason": "already indexed", "image_id": 413},
                {
                    "name": "notes.pdf",
                    "state": "refused",
                    "reason": "not an image (the content is not a format imagesearch reads)",
                    "image_id": None,
                },
            ],
            "job": None,
        },
        status=201,
        summary="a small batch: each file's outcome, in the order sent",
    ),
    response(
        "Queued as a job",
        {
            "results": [{"name": f"IMG_{n}.jpg", "state": "queued", "reason": "", "image_id": None} for n in (1, 2)],
            "job": job(state="pending", done=0, skipped=0, processed=0),
        },
        status=202,
        summary="a large batch: poll the job's url for its progress",
    ),
    error("No files", 400, ("files", "required", "This field is required.")),
    error(
        "Not allowed",
        403,
        (None, "permission_denied", "Adding images to the shared collection needs the search.add_image permission."),
    ),
]

JOB_DETAIL = [
    response("Running", job()),
    response(
        "Finished",
        job(
            state="succeeded",
            done=38,
            failed=1,
            processed=40,
            message="38 indexed, 1 skipped, 1 failed (1 x damaged image data)",
        ),
    ),
    error("No such job", 404, (None, "not_found", "No job 31.")),
]

IMAGE_DOWNLOAD = [
    error("Bad format", 400, ("format", "invalid_choice", '"gif" is not a valid choice.')),
    error("File missing", 404, (None, "not_found", "The file of image 412 is missing.")),
]

WEIGHTS = {"alpha": 1.0, "beta": 0.75, "gamma": 0.25, "feedback": 0.7, "negative": 0.5}


def turn(**changes) -> dict:
    return {
        "id": 31,
        "position": 1,
        "parent": None,
        "kind": "query",
        "text": "a red circle",
        "query_text": "a red circle",
        "image_weight": None,
        "relevant_ids": [],
        "not_relevant_ids": [],
        "weights": WEIGHTS,
        "model": MODEL,
        "results": RED_HITS,
        "created_at": CREATED_AT,
        **changes,
    }


JUDGED_TURN = turn(
    id=32,
    position=2,
    parent=1,
    kind="judgement",
    text="",
    relevant_ids=[412],
    not_relevant_ids=[87],
    results=[hit(412, 0.4518, "a red balloon against a blue sky", "toys"), hit(530, 0.3391, "red party balloons")],
    created_at=UPDATED_AT,
)
NO_SESSION = error("No such session", 404, (None, "not_found", "SearchSession matching query does not exist."))

SESSION_CREATE = [
    *request("Titled", {"title": "Red shapes"}, media_types=(JSON, MULTIPART)),
    response(
        "Created",
        {"id": 7, "title": "Red shapes", "created_at": CREATED_AT, "updated_at": CREATED_AT, "turns": []},
        status=201,
    ),
    error("Title too long", 400, ("title", "max_length", "Ensure this field has no more than 200 characters.")),
]

SESSION_DETAIL = [
    response(
        "Session",
        {
            "id": 7,
            "title": "Red shapes",
            "created_at": CREATED_AT,
            "updated_at": UPDATED_AT,
            "turns": [turn(), JUDGED_TURN],
        },
    ),
    NO_SESSION,
]

TURN_CREATE = [
    *request("Query", {"text": "a red circle"}),
    *request("Feedback", {"feedback": "bigger, no blue"}),
    *request("Judgements", {"relevant_ids": [412], "not_relevant_ids": [87]}),
    *request(
        "Refine an earlier turn",
        {"parent": 1, "feedback": "on a white background", "weights": {"feedback": 1.2}, "top_k": 12},
    ),
    *request("Example image", {"image": FILE, "text": "a red circle", "image_weight": 0.5}, media_types=(MULTIPART,)),
    response("New query", turn(), status=201),
    response("Judged", JUDGED_TURN, status=201, summary="the second turn refined the first with judgements"),
    error("No such parent", 400, ("parent", "invalid", "This session has no turn 9.")),
    NO_SESSION,
]

HEALTH_CHECKS = {
    "database": {"ok": True, "vendor": "postgresql"},
    "vector_extension": {"ok": True, "version": "0.8.0"},
    "encoder": {
        "ok": True,
        "model": MODEL,
        "device": "cpu",
        "dim": 512,
        "precision": "bfloat16",
        "text_path": "int8",
    },
    "broker": {"ok": True, "url": "redis://redis:6379/0"},
}

HEALTH = [
    response("Healthy", {"status": "ok", "failing": [], "checks": HEALTH_CHECKS}),
    response(
        "Broker down",
        {
            "status": "failing",
            "failing": ["broker"],
            "checks": {
                **HEALTH_CHECKS,
                "broker": {
                    "ok": False,
                    "error": "OperationalError: Error 111 connecting to redis:6379. Connection refused.",
                },
            },
        },
        status=503,
    ),
]


def percentiles(p50: float, p95: float, p99: float) -> dict:
    return {"p50": p50, "p95": p95, "p99": p99}


STATS = [
    response(
        "Stats",
        {
            "collection": {"total": 12840, "hidden": 37, "by_model": {MODEL: 12835, "": 5}},
            "latency_ms": {
                "encode_text": {
                    "count": 212,
                    "encode": percentiles(4.1, 9.8, 14.2),
                    "total": percentiles(6.0, 12.9, 19.5),
                },
                "search": {
                    "count": 1000,
                    "encode": percentiles(4.3, 10.2, 15.0),
                    "search": percentiles(8.7, 21.4, 35.9),
                    "total": percentiles(16.2, 38.5, 61.0),
                },
            },
            "window": 1000,
        },
        summary='model "" counts images not embedded yet',
    ),
]
