"""Images, their CLIP vectors and captions; search sessions; background jobs.

All search SQL lives here as named ImageQuerySet methods: the vector queries (nearest, nearest_captions) and the
full-text ones (text_matches), whose document expression is defined once and shared with its GIN index.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections, models, transaction
from django.db.models import Func, Q
from django.db.models.functions import Cast
from pgvector.django import BitField, CosineDistance, HalfVectorField, HammingDistance, VectorField

from search.libraries import originals
from search.vector_index import BIT, HALFVEC, VECTOR, VECTOR_TABLE, index_kind
from search.vector_session import QueryVector, QueryVectorValue, search_cursor

TEXT_CONFIG = "english"


def text_document() -> SearchVector:
    """What full-text search reads of an image: its caption, file name and category. The GIN index `image_text_gin`
    is built on this same expression, so the planner can answer a match with it."""
    return SearchVector("caption", "original_name", "category", config=TEXT_CONFIG)


class ImageSource(models.TextChoices):
    FOLDER = "folder", "Folder"
    UPLOAD = "upload", "Upload"
    WEB = "web", "Web"


def _bits(expression, dimensions: int) -> Cast:
    """binary_quantize(expression)::bit(dim): the `bit` index's expression (search.vector_index)."""
    quantized = Func(expression, function="binary_quantize", output_field=BitField(length=dimensions))
    return Cast(quantized, BitField(length=dimensions))


# An image's search vector, as its queries name it: in the narrow ImageVector table, joined by the image's id.
EMBEDDING = "vector__embedding"


def _after(after: tuple[float, int]) -> Q:
    """Rows past a keyset cursor (distance, id) in (distance, id) order."""
    return Q(distance__gt=after[0]) | Q(distance=after[0], id__gt=after[1])


class ImageQuerySet(models.QuerySet):
    def visible(self) -> ImageQuerySet:
        """What searches and pages may show: not hidden by a curator, and its file not gone from its library."""
        return self.filter(hidden=False, missing=False)

    def embedded_with(self, model_key: str) -> ImageQuerySet:
        """Images whose search vector was made by `model_key` (a join to their row in ImageVector)."""
        return self.filter(vector__embedding_model=model_key)

    def nearest(
        self,
        vector: Sequence[float] | np.ndarray,
        *,
        model_key: str,
        limit: int,
        exact: bool = False,
        ef_search: int = 40,
        halfvec: bool | None = None,
        after: tuple[float, int] | None = None,
        index: str | None = None,
        candidates: int | None = None,
    ) -> list[Image]:
        """The `limit` images closest to `vector` by cosine distance, each annotated with `.distance`.

        Only vectors of `model_key` are compared. The expression compared matches the model's partial HNSW index
        of kind `index` (default: the VECTOR_INDEX setting; halfvec=True/False is the older switch), so the planner
        can use it (search.vector_index); exact=True compares full vectors in a sequential scan instead.
        Iterative index scans keep returning rows until `limit` rows pass the other filters (pgvector >= 0.8).
        The `bit` kind finds `candidates` (default: SEARCH_BIT_CANDIDATES) rows by Hamming distance and returns
        the best `limit` of them by cosine distance of the full vectors.
        after=(distance, id) returns the page that follows the one ending there (keyset paging: the order is
        (distance, id), so pages never overlap or skip a row of the same ranking).
        """
        kind = VECTOR if exact else index_kind(index, halfvec=halfvec)
        images = self.embedded_with(model_key).defer("caption_embedding")
        if kind == BIT:
            candidates = max(candidates or settings.SEARCH_BIT_CANDIDATES, limit)
            return images._nearest_by_bits(vector, limit=limit, ef_search=ef_search, candidates=candidates, after=after)
        return images._nearest_by(
            EMBEDDING, vector, limit=limit, exact=exact, ef_search=ef_search, halfvec=kind == HALFVEC, after=after
        )

    def text_matches(self, query: SearchQuery) -> ImageQuerySet:
        """Images whose text matches the full-text `query`, best ts_rank first (the GIN index answers the match)."""
        document = text_document()
        return (
            self.alias(document=document)
            .filter(document=query)
            .annotate(text_rank=SearchRank(document, query))
            .order_by("-text_rank", "id")
            .defer("caption_embedding")
        )

    def taken_between(self, after=None, before=None) -> ImageQuerySet:
        """Photos taken within the range (either end open); photos without a date never match."""
        images = self
        if after is not None:
            images = images.filter(taken_at__gte=after)
        if before is not None:
            images = images.filter(taken_at__lte=before)
        return images

    def by_camera(self, camera: str) -> ImageQuerySet:
        """Photos whose camera make or model contains `camera`, any case."""
        return self.filter(Q(camera_model__icontains=camera) | Q(camera_make__icontains=camera))

    def located(self, has_location: bool = True) -> ImageQuerySet:
        return self.filter(latitude__isnull=not has_location)

    def within(self, south: float, west: float, north: float, east: float) -> ImageQuerySet:
        """Photos taken inside the box; a box whose west edge is east of its east edge spans the 180th meridian."""
        images = self.filter(latitude__gte=south, latitude__lte=north)
        if west <= east:
            return images.filter(longitude__gte=west, longitude__lte=east)
        return images.filter(Q(longitude__gte=west) | Q(longitude__lte=east))

    def needing_caption(self, caption_model: str, *, missing_only: bool = False) -> ImageQuerySet:
        """Non-curated images without a caption (missing_only) or without one from this captioner."""
        images = self.filter(caption_curated=False)
        if missing_only:
            return images.filter(caption="")
        return images.filter(Q(caption="") | ~Q(caption_model=caption_model))

    def needing_embedding(self, model_key: str) -> ImageQuerySet:
        """Images whose vector is missing or was made by another model."""
        return self.exclude(vector__embedding_model=model_key)

    def caption_embedded_with(self, model_key: str) -> ImageQuerySet:
        return self.filter(caption_embedding_model=model_key, caption_embedding__isnull=False)

    def nearest_captions(
        self,
        vector: Sequence[float] | np.ndarray,
        *,
        model_key: str,
        limit: int,
        exact: bool = False,
        ef_search: int = 40,
    ) -> list[Image]:
        """The `limit` images whose caption vectors (CLIP text encoder) are closest to `vector`, with `.distance`.

        Same contract as `nearest`, over caption_embedding and its own partial HNSW index per model.
        """
        images = self.caption_embedded_with(model_key).defer("caption_embedding")
        return images._nearest_by("caption_embedding", vector, limit=limit, exact=exact, ef_search=ef_search)

    def _nearest_by(
        self,
        column: str,
        vector: Sequence[float] | np.ndarray,
        *,
        limit: int,
        exact: bool,
        ef_search: int,
        halfvec: bool = False,
        after: tuple[float, int] | None = None,
    ) -> list[Image]:
        query_vector = QueryVector(np.asarray(vector, dtype=np.float32), HALFVEC if halfvec else VECTOR)
        query = self._nearest_query(column, query_vector, limit=limit, after=after)
        if not exact:
            return query._fetch_with_distance(ef_search=max(ef_search, limit))
        with transaction.atomic(using=self.db):
            with connections[self.db].cursor() as cursor:
                cursor.execute("SELECT set_config('enable_indexscan', 'off', true)")
            return query._fetch_with_distance(ef_search=None)

    def _nearest_query(
        self, column: str, query_vector: QueryVector, *, limit: int, after: tuple[float, int] | None = None
    ) -> ImageQuerySet:
        field = HalfVectorField if query_vector.kind == HALFVEC else VectorField
        distance = CosineDistance(
            Cast(column, field(dimensions=len(query_vector.values))), QueryVectorValue(query_vector)
        )
        query = self.annotate(distance=distance)
        if after is not None:
            query = query.filter(_after(after))
        return query.order_by("distance", "id")[:limit]

    def _nearest_by_bits(
        self,
        vector: Sequence[float] | np.ndarray,
        *,
        limit: int,
        ef_search: int,
        candidates: int,
        after: tuple[float, int] | None = None,
    ) -> list[Image]:
        query_vector = QueryVector(np.asarray(vector, dtype=np.float32), _vector_type(BIT))
        shortlist = self._bits_shortlist(query_vector, candidates=candidates, after=after)
        return NearestStatement(shortlist, rerank=limit).run(None, ef_search=max(ef_search, candidates))

    def _bits_shortlist(
        self, query_vector: QueryVector, *, candidates: int, after: tuple[float, int] | None = None
    ) -> ImageQuerySet:
        """The `candidates` rows nearest by Hamming distance (the `bit` index), each with the cosine distance of its
        full vector, computed on the row the index scan fetched anyway (NearestStatement re-ranks them)."""
        dim = len(query_vector.values)
        hamming = HammingDistance(
            _bits(Cast(EMBEDDING, VectorField(dimensions=dim)), dim), _bits(QueryVectorValue(query_vector), dim)
        )
        # The column as stored, without a cast: the re-rank must not be matched to another index of the model.
        distance = CosineDistance(EMBEDDING, QueryVectorValue(query_vector))
        shortlist = self.alias(hamming=hamming).annotate(distance=distance)
        if after is not None:  # the candidates come from past the cursor, so every page has its own
            shortlist = shortlist.filter(_after(after))
        return shortlist.order_by("hamming")[:candidates]

    def _fetch_with_distance(self, *, ef_search: int | None) -> list[Image]:
        """The rows (only the columns this queryset loads) and their distance, in one binary-parameter statement."""
        return NearestStatement(self).run(None, ef_search=ef_search)

    def nearest_visible(
        self,
        vector: Sequence[float] | np.ndarray,
        *,
        model_key: str,
        limit: int,
        ef_search: int,
        fields: Sequence[str],
        category: str = "",
        source: str = "",
    ) -> list[Image]:
        """nearest() over the visible images (of one category and source, if given), reading only `fields`.

        The commonest search, so its statement is compiled by the ORM once per shape (model, limit, fields, index
        kind, dimensions, category, source, bit candidates) and sent again with each new query vector: no queryset
        to build.
        """
        values = np.asarray(vector, dtype=np.float32)
        kind = index_kind()
        candidates = max(settings.SEARCH_BIT_CANDIDATES, limit) if kind == BIT else 0
        shape = (self.db, model_key, limit, tuple(fields), kind, len(values), category, source, candidates)
        statement = _visible_statement(*shape)
        return statement.run(QueryVector(values, _vector_type(kind)), ef_search=max(ef_search, limit, candidates))


def _visible_scope(images: ImageQuerySet, category: str, source: str) -> ImageQuerySet:
    if category:
        images = images.filter(category=category)
    if source:
        images = images.filter(source=source)
    return images


def _vector_type(kind: str) -> str:
    """The type the query vector is sent as for an index kind: `bit` re-ranks by the stored halfvec column."""
    return VECTOR if kind == VECTOR else HALFVEC


@functools.lru_cache(maxsize=256)
def _visible_statement(
    db: str,
    model_key: str,
    limit: int,
    fields: tuple[str, ...],
    kind: str,
    dim: int,
    category: str,
    source: str,
    candidates: int,
) -> NearestStatement:
    images = _visible_scope(Image.objects.using(db).visible(), category, source).only(*fields)
    images = images.embedded_with(model_key).defer("caption_embedding")  # as nearest() does
    probe = QueryVector(np.zeros(dim, dtype=np.float32), _vector_type(kind))  # each run sends its own vector
    if kind == BIT:
        return NearestStatement(images._bits_shortlist(probe, candidates=candidates), rerank=limit)
    return NearestStatement(images._nearest_query(EMBEDDING, probe, limit=limit))


class NearestStatement:
    """A nearest-neighbour SELECT as the ORM compiled it, runnable with a new query vector; rows become instances
    as Django's own iteration makes them (the compiler's select map and converters), only the cursor differs."""

    def __init__(self, queryset: ImageQuerySet, *, rerank: int | None = None) -> None:
        self.model, self.db = queryset.model, queryset.db
        self.compiler = queryset.query.get_compiler(queryset.db)
        self.sql, self.params = self.compiler.as_sql()
        if rerank is not None:
            # A `bit` shortlist: its rows carry their full-vector distance already, so the best `rerank` of them
            # are picked in the same statement, instead of fetching every candidate a second time by id. The
            # outer SELECT keeps the inner column order, so the compiler's select map still applies.
            self.sql = f'SELECT * FROM ({self.sql}) AS shortlist ORDER BY "distance", "id" LIMIT {int(rerank)}'
        self.vector_at = [index for index, param in enumerate(self.params) if isinstance(param, QueryVector)]
        self.fields = self.compiler.klass_info["select_fields"]
        self.names = [self.compiler.select[index][0].target.attname for index in self.fields]
        self.distance_at = self.compiler.annotation_col_map["distance"]

    def run(self, vector: QueryVector | None, *, ef_search: int | None) -> list[Image]:
        params = list(self.params)
        if vector is not None:
            for index in self.vector_at:
                params[index] = vector
        with search_cursor(connections[self.db], ef_search=ef_search) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        images = []
        for row in self.compiler.results_iter(results=[rows]):
            image = self.model.from_db(self.db, self.names, [row[index] for index in self.fields])
            image.distance = row[self.distance_at]
            images.append(image)
        return images


class Image(models.Model):
    sha256 = models.CharField(max_length=64, unique=True, help_text="sha256 of the original file's bytes")
    original_name = models.CharField(max_length=255)
    # In media storage, or `library:<path>` for a photo indexed in place (search.libraries).
    file = models.FileField(max_length=1000, storage=originals)
    thumbnail = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10, help_text="Pillow format name, e.g. JPEG, PNG")
    byte_size = models.PositiveBigIntegerField()
    file_mtime = models.FloatField(null=True, blank=True, help_text="an in-place file's mtime when last read")
    missing = models.BooleanField(default=False, db_index=True, help_text="an in-place file no longer found")
    source = models.CharField(max_length=10, choices=ImageSource.choices, default=ImageSource.FOLDER)
    source_url = models.URLField(max_length=2000, blank=True)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    caption = models.TextField(blank=True)
    caption_curated = models.BooleanField(default=False, help_text="edited by a curator: never overwritten")
    caption_model = models.CharField(max_length=300, blank=True, help_text="the captioner that wrote the caption")
    caption_embedding = VectorField(null=True, blank=True)
    caption_embedding_model = models.CharField(max_length=300, blank=True, db_index=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="added_images"
    )
    hidden = models.BooleanField(default=False, db_index=True)
    # What the photo says about itself (EXIF, search.photometadata); empty when it says nothing.
    taken_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="when the photo was taken (UTC)")
    taken_offset = models.CharField(max_length=6, blank=True, help_text="the camera's UTC offset, e.g. +02:00")
    camera_make = models.CharField(max_length=100, blank=True)
    camera_model = models.CharField(max_length=100, blank=True, db_index=True)
    lens = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    orientation = models.PositiveSmallIntegerField(null=True, blank=True, help_text="EXIF orientation, 1-8")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Full-text search over what people and captioners wrote about an image (hybrid search).
            GinIndex(text_document(), name="image_text_gin"),
            # Bounding-box filters: a range on latitude, then longitude, of the located images only.
            models.Index(fields=["latitude", "longitude"], name="image_location", condition=Q(latitude__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"

    @property
    def embedding_model(self) -> str:
        """The CLIP model that made this image's search vector; "" while it has none."""
        vector = getattr(self, "vector", None)  # a reverse one-to-one raises an AttributeError when there is none
        return vector.embedding_model if vector is not None else ""


class ImageVector(models.Model):
    """An image's CLIP search vector, in a narrow table of its own (migration 0011), one row per embedded image.

    Kept apart from Image so that what the HNSW index points at changes only when the vector does: an update to an
    Image row (a caption, a curator's hide, a rescan) writes a new row version, and every index of its table gets a
    new entry; with the vector in that row, the HNSW graph got one too, at ~15x the cost of the update itself
    (docs/benchmarks.md). Here the vectors also sit seven to a page, so a re-rank reads fewer pages and the table +
    its `bit` index stay under 1.5 GiB at a million images. Searches join it to Image by the image's id
    (ImageQuerySet.nearest).
    """

    image = models.OneToOneField(Image, primary_key=True, on_delete=models.CASCADE, related_name="vector")
    # The partial HNSW indexes are per model (search.vector_index), so the key lives beside the vector.
    embedding_model = models.CharField(max_length=300, db_index=True)
    # Half precision (migration 0009): half the bytes of a float vector, rankings moved by less than the graph's
    # own error. Read back as a list of floats, like a VectorField.
    embedding = HalfVectorField()

    class Meta:
        db_table = VECTOR_TABLE

    def __str__(self) -> str:
        return f"vector of image {self.image_id} ({self.embedding_model})"


class CaptionRevision(models.Model):
    """Every caption an image has had, so a curator can see and restore an earlier one."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="caption_revisions")
    caption = models.TextField(blank=True)
    curated = models.BooleanField(default=False)
    caption_model = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Caption of image {self.image_id} at {self.created_at:%Y-%m-%d %H:%M}"


class SearchSession(models.Model):
    """A user's conversation with the collection: an ordered history of turns."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_sessions")
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, help_text="last activity; idle sessions lose their temp files")

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"Session {self.pk}"


class QueryImage(models.Model):
    """An image uploaded as a query: a temporary file tied to its session (purged when the session idles)."""

    session = models.ForeignKey(SearchSession, on_delete=models.CASCADE, related_name="query_images")
    file = models.FileField(max_length=255)
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=255, blank=True)
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    byte_size = models.PositiveBigIntegerField()
    caption = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Query image {self.pk} of session {self.session_id}"


class TurnKind(models.TextChoices):
    QUERY = "query", "Query"
    FEEDBACK = "feedback", "Feedback text"
    JUDGEMENT = "judgement", "Relevance judgements"
    MORE_LIKE_THIS = "more_like_this", "More like this"


class SearchTurn(models.Model):
    """One step of a session: what was asked, the query vector used, and the results shown."""

    session = models.ForeignKey(SearchSession, on_delete=models.CASCADE, related_name="turns")
    position = models.PositiveIntegerField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", help_text="refined turn"
    )
    kind = models.CharField(max_length=20, choices=TurnKind.choices)
    text = models.TextField(blank=True, help_text="what the user typed this turn (query or feedback)")
    query_text = models.TextField(blank=True, help_text="the text query in force after this turn")
    query_image = models.ForeignKey(QueryImage, null=True, blank=True, on_delete=models.SET_NULL)
    more_like_image = models.ForeignKey(
        "Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="'more like this' image"
    )
    image_weight = models.FloatField(null=True, blank=True)
    relevant_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    not_relevant_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    weights = models.JSONField(default=dict, blank=True, help_text="refinement weights used")
    query_vector = VectorField(null=True, blank=True)
    model_key = models.CharField(max_length=300, blank=True)
    results = models.JSONField(default=list, blank=True, help_text="[{id, score}] as shown")
    filters = models.JSONField(
        default=dict, blank=True, help_text="mode and photo filters in force (a new query's, kept by its refinements)"
    )
    rewrite = models.JSONField(default=dict, blank=True, help_text="language-model rewrite of the text, if any")
    client_key = models.CharField(
        max_length=64, blank=True, help_text="the page's idempotency key: a turn sent twice is made once"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="turn_position_unique"),
            models.UniqueConstraint(
                fields=["session", "client_key"], condition=~models.Q(client_key=""), name="turn_client_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"Turn {self.position} of session {self.session_id}"


class JobKind(models.TextChoices):
    FETCH = "fetch", "Fetch from the web"
    INGEST = "ingest", "Ingest a folder"
    UPLOAD = "upload", "Uploaded files"
    CAPTION = "caption", "Caption images"
    REINDEX = "reindex", "Re-embed images"


class JobState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Job(models.Model):
    """Long background work (fetch, ingest, ...) with its progress, kept in the database across worker restarts.

    Its items (JobItem) carry the truth: the counters are recomputed from them, never incremented, and a job whose
    work was interrupted anywhere resumes by working through the items still pending.
    """

    FINISHED_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
    CANCELLABLE_STATES = frozenset({JobState.PENDING, JobState.RUNNING})

    kind = models.CharField(max_length=20, choices=JobKind.choices)
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.PENDING, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    query = models.CharField(max_length=500, blank=True)
    params = models.JSONField(default=dict, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="final report or the error that stopped the job")
    task_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED_STATES

    @property
    def is_cancellable(self) -> bool:
        return self.state in self.CANCELLABLE_STATES

    @property
    def is_resumable(self) -> bool:
        """Pending items can be worked on again: a running job whose worker died, or a failed one being retried."""
        return self.state != JobState.CANCELLED

    @property
    def processed(self) -> int:
        return self.done + self.skipped + self.failed


class JobItemState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class JobItem(models.Model):
    """One unit of a job (a URL or a file), so failed items can be retried and progress survives restarts."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    source = models.CharField(max_length=2000, help_text="URL, file path, or staged upload in media storage")
    name = models.CharField(max_length=255, blank=True, help_text="an uploaded file's own name")
    state = models.CharField(max_length=20, choices=JobItemState.choices, default=JobItemState.PENDING)
    reason = models.TextField(blank=True)
    image = models.ForeignKey(Image, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "source"], name="job_item_source_unique")]

    def __str__(self) -> str:
        return f"{self.source} ({self.state})"
