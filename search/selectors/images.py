"""Reads for browsing the collection (not similarity search): listing with filters, one image, its bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Count, Q, QuerySet

from imagesearch.replicas import read_alias
from search.models import Image
from search.query import PhotoFilters
from search.selectors.vector import photo_filtered


@dataclass(frozen=True)
class ImageFilters:
    category: str | None = None
    source: str = ""
    model: str = ""
    captioned: bool | None = None
    hidden: bool | None = None  # staff only; others always see visible images
    photo: PhotoFilters = field(default_factory=PhotoFilters)
    sort: str = "added"  # IMAGE_SORTS


# How a listing may be ordered: newest added first, or by date taken (photos without a date left out).
IMAGE_SORTS = {"added": ("-id",), "taken": ("-taken_at", "-id"), "taken_oldest": ("taken_at", "id")}


def images_for_user(user: AbstractBaseUser) -> QuerySet[Image]:
    """The images `user` may see: staff see hidden ones too. Each with its vector's model key (one join), not the
    vector itself."""
    images = Image.objects.select_related("vector").defer("vector__embedding", "caption_embedding")
    return images if getattr(user, "is_staff", False) else images.visible()


def image_list(*, user: AbstractBaseUser, filters: ImageFilters) -> QuerySet[Image]:
    """Images visible to `user` matching `filters`, in the order `filters.sort` names (read from a replica if any)."""
    images = images_for_user(user).using(read_alias())
    if filters.category is not None:
        images = images.filter(category=filters.category)
    if filters.source:
        images = images.filter(source=filters.source)
    if filters.model:
        images = images.filter(vector__embedding_model=filters.model)
    if filters.captioned is not None:
        images = images.exclude(caption="") if filters.captioned else images.filter(caption="")
    if filters.hidden is not None and getattr(user, "is_staff", False):
        images = images.filter(hidden=filters.hidden)
    images = photo_filtered(images, filters.photo)
    if filters.sort != "added":
        images = images.exclude(taken_at=None)
    return images.order_by(*IMAGE_SORTS[filters.sort])


def image_get(*, user: AbstractBaseUser, image_id: int) -> Image:
    """One image `user` may see; Image.DoesNotExist otherwise."""
    return images_for_user(user).get(id=image_id)


def collection_stats() -> dict:
    """Collection size: images in all, hidden, and per embedding model (not yet embedded: model "")."""
    totals = Image.objects.aggregate(total=Count("id"), hidden=Count("id", filter=Q(hidden=True)))
    by_model = Image.objects.order_by().values("vector__embedding_model").annotate(count=Count("id")).order_by("-count")
    return {**totals, "by_model": {row["vector__embedding_model"] or "": row["count"] for row in by_model}}
