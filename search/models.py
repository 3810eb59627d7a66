"""Images and their CLIP vectors. All vector-distance SQL lives in ImageQuerySet.nearest."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db import connection, models, transaction
from django.db.models.functions import Cast
from pgvector.django import CosineDistance, VectorField


class ImageSource(models.TextChoices):
    FOLDER = "folder", "Folder"
    UPLOAD = "upload", "Upload"
    WEB = "web", "Web"


class ImageQuerySet(models.QuerySet):
    def visible(self) -> ImageQuerySet:
        return self.filter(hidden=False)

    def embedded_with(self, model_key: str) -> ImageQuerySet:
        return self.filter(embedding_model=model_key, embedding__isnull=False)

    def nearest(
        self,
        vector: Sequence[float] | np.ndarray,
        *,
        model_key: str,
        limit: int,
        exact: bool = False,
        ef_search: int = 40,
    ) -> list[Image]:
        """The `limit` images closest to `vector` by cosine distance, each annotated with `.distance`.

        Only vectors of `model_key` are compared. The cast to vector(dim) matches the partial HNSW index of that
        model (search.vector_index), so the planner can use it; exact=True forces a sequential scan instead.
        Iterative index scans keep returning rows until `limit` rows pass the other filters (pgvector >= 0.8).
        """
        dimensions = len(vector)
        cast = Cast("embedding", VectorField(dimensions=dimensions))
        query = (
            self.embedded_with(model_key)
            .defer("embedding")
            .annotate(distance=CosineDistance(cast, np.asarray(vector, dtype=np.float32)))
            .order_by("distance", "id")[:limit]
        )
        with transaction.atomic():
            with connection.cursor() as cursor:
                if exact:
                    cursor.execute("SELECT set_config('enable_indexscan', 'off', true)")
                else:
                    cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(max(ef_search, limit))])
                    cursor.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
            return list(query)


class Image(models.Model):
    sha256 = models.CharField(max_length=64, unique=True, help_text="sha256 of the original file's bytes")
    original_name = models.CharField(max_length=255)
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10, help_text="Pillow format name, e.g. JPEG, PNG")
    byte_size = models.PositiveBigIntegerField()
    source = models.CharField(max_length=10, choices=ImageSource.choices, default=ImageSource.FOLDER)
    source_url = models.URLField(max_length=2000, blank=True)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    caption = models.TextField(blank=True)
    caption_curated = models.BooleanField(default=False, help_text="edited by a curator: never overwritten")
    hidden = models.BooleanField(default=False, db_index=True)
    embedding = VectorField(null=True, blank=True)
    embedding_model = models.CharField(max_length=300, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]})"
