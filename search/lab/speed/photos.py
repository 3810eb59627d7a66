"""Benchmarks of bringing your own photos: upload through the API against folder ingest, a rescan of unchanged
library files, WebP against JPEG thumbnails, and vector queries within photo filters at 1% and 10% selectivity."""

from __future__ import annotations

import datetime as dt
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from PIL import Image as PILImage
from rest_framework.test import APIClient

from search.encoder import ClipEncoder
from search.imagefiles import flatten_to_rgb, load_image, make_thumbnail
from search.lab.speed.rows import create_with_vectors, synthetic_image
from search.lab.speed.stats import percentiles, time_ms
from search.libraries import library_name
from search.models import Image
from search.query import PhotoFilters, SearchScope
from search.selectors.vector import search_by_vector
from search.services.ingest import find_image_files, images_ingest
from search.services.libraries import libraries_rescan
from search.vector_index import VECTOR_TABLE, ensure_hnsw_index


@dataclass(frozen=True)
class Throughput:
    name: str
    images: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.images / self.seconds


def folder_ingest_rate(encoder: ClipEncoder, jpegs: list[bytes], folder: Path) -> Throughput:
    folder.mkdir(parents=True)
    for number, data in enumerate(jpegs):
        (folder / f"{number:05d}.jpg").write_bytes(data)
    started = time.perf_counter()
    report = images_ingest(find_image_files(folder), encoder=encoder)
    assert report.added == len(jpegs), report.failed
    return Throughput("folder ingest (manage.py ingest)", len(jpegs), time.perf_counter() - started)


def api_upload_rate(jpegs: list[bytes], *, files_per_request: int, label: str, status: int = 201) -> Throughput:
    """POST /api/images/ through Django's full stack (middleware, DRF, the upload service), in this process."""
    user, _ = get_user_model().objects.get_or_create(username="bench-uploader")
    user.user_permissions.add(Permission.objects.get(codename="add_image", content_type__app_label="search"))
    client = APIClient(HTTP_HOST="127.0.0.1")  # a host ALLOWED_HOSTS has by default
    client.force_authenticate(user)
    # The throughput of the endpoint, not of the rate limit (60 multipart requests a minute per user by default).
    unthrottled = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": dict.fromkeys(("user", "anon", "uploads"))}
    with override_settings(REST_FRAMEWORK=unthrottled):
        return _timed_uploads(client, jpegs, files_per_request, label, status)


def _timed_uploads(client: APIClient, jpegs: list[bytes], files_per_request: int, label: str, status: int):
    started = time.perf_counter()
    for start in range(0, len(jpegs), files_per_request):
        files = [
            SimpleUploadedFile(f"{start + n:05d}.jpg", data, content_type="image/jpeg")
            for n, data in enumerate(jpegs[start : start + files_per_request])
        ]
        response = client.post("/api/images/", {"files": files}, format="multipart")
        assert response.status_code == status, response.content[:500]
    return Throughput(label, len(jpegs), time.perf_counter() - started)


def api_upload_job_rate(jpegs: list[bytes]) -> Throughput:
    """All files in one POST /api/images/ that becomes a job (staged, then ingested in batches), its tasks run in
    this process (Celery's eager mode) so the time includes the whole job."""
    from imagesearch.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with override_settings(UPLOAD_SYNC_MAX_FILES=0):
            rate = api_upload_rate(
                jpegs, files_per_request=len(jpegs), label="POST /api/images/, all in one request: a job", status=202
            )
    finally:
        app.conf.task_always_eager = eager
    assert Image.objects.count() >= len(jpegs), "the job did not ingest every file"
    return rate


def rescan_unchanged(root: Path, count: int, *, model_key: str, dim: int) -> tuple[float, str]:
    """Seconds to rescan `count` unchanged in-place files (rows written directly: the scan is what is timed)."""
    root.mkdir(parents=True)
    Image.objects.filter(vector__embedding_model=model_key).delete()  # left by a run stopped halfway
    rows, vectors = [], []
    vector = np.zeros(dim, dtype=np.float32)
    vector[0] = 1.0
    for number in range(count):
        path = root / f"{number // 1000:03d}" / f"{number:06d}.jpg"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"\xff\xd8 not read by a rescan of unchanged files")
        stat = path.stat()
        row = synthetic_image(number, prefix="rescan")
        row.file, row.byte_size, row.file_mtime = library_name(path), stat.st_size, stat.st_mtime
        rows.append(row)
        vectors.append(vector)
    create_with_vectors(rows, vectors, model_key=model_key, batch_size=2000)
    started = time.perf_counter()
    report = libraries_rescan()
    return time.perf_counter() - started, str(report)


def thumbnail_sizes(jpegs: list[bytes], side: int) -> dict[str, tuple[float, float]]:
    """Mean bytes and ms per thumbnail: the shipped WebP, and JPEG quality 82 (the earlier format)."""
    results = {"webp": [], "jpeg": []}
    for data in jpegs:
        image = load_image(data, max_pixels=10**9).image
        elapsed, webp = time_ms(lambda image=image: make_thumbnail(image, side))
        results["webp"].append((len(webp), elapsed))
        elapsed, jpeg = time_ms(lambda image=image: _jpeg_thumbnail(image, side))
        results["jpeg"].append((len(jpeg), elapsed))
    return {name: tuple(np.mean(values, axis=0)) for name, values in results.items()}


def _jpeg_thumbnail(image: PILImage.Image, side: int) -> bytes:
    thumbnail = flatten_to_rgb(image)
    thumbnail.thumbnail((side, side), PILImage.Resampling.LANCZOS, reducing_gap=1.0)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def filtered_latencies(count: int, dim: int, queries: int, k: int, *, model_key: str) -> list[tuple[str, dict, float]]:
    """p50/p95/p99 of vector queries within date filters matching 1% and 10% of `count` rows, and unfiltered;
    with the share of queries that still returned k rows."""
    Image.objects.filter(vector__embedding_model=model_key).delete()  # left by a run stopped halfway
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    base = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    # Row i is taken i minutes after the base: a date range is a contiguous slice of the rows.
    rows = [synthetic_image(i, prefix="filtered") for i in range(count)]
    for row, order in zip(rows, rng.permutation(count), strict=True):
        row.taken_at = base + dt.timedelta(minutes=int(order))
    create_with_vectors(rows, vectors[:count], model_key=model_key, batch_size=2000)
    ensure_hnsw_index(model_key, dim)
    # Statistics as autovacuum leaves them on a live table: without them the planner guesses how many rows a date
    # range keeps and may walk the HNSW graph where a b-tree read of the few matching rows is ~10x faster.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE search_image, {VECTOR_TABLE}")
    probes = rng.normal(size=(queries, dim)).astype(np.float32)
    results = []
    for label, share in (("unfiltered", None), ("taken within 10% of the dates", 0.10), ("within 1%", 0.01)):
        photo = PhotoFilters()
        if share is not None:
            photo = PhotoFilters(taken_after=base, taken_before=base + dt.timedelta(minutes=int(count * share) - 1))
        scope = SearchScope(top_k=k, photo=photo)
        samples, full = [], 0
        for probe in probes:
            elapsed, hits = time_ms(lambda p=probe, s=scope: search_by_vector(p, scope=s, model_key=model_key))
            samples.append(elapsed)
            full += len(hits) == k
        results.append((label, percentiles(samples), full / queries))
    return results
