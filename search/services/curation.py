"""Writes a curator makes: hide and unhide, set categories, edit and restore captions, edit one image's fields at
once, resolve duplicate groups.

Hidden images drop out of every search at once: all search paths read Image.objects.visible(), and each write here
bumps the collection version, so no cached result page shows the image as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from search.models import CaptionRevision, Image
from search.result_cache import collection_changed

CATEGORY_MAX_LENGTH = Image._meta.get_field("category").max_length


class CurationError(ValueError):
    """A curation request that cannot be carried out; str(error) says why, for the curator."""


def images_set_hidden(*, image_ids: Iterable[int], hidden: bool) -> list[int]:
    """Hide or unhide images; returns the ids whose flag actually changed."""
    with transaction.atomic():
        changed = list(
            Image.objects.filter(id__in=list(image_ids))
            .exclude(hidden=hidden)
            .select_for_update()
            .values_list("id", flat=True)
        )
        Image.objects.filter(id__in=changed).update(hidden=hidden, updated_at=timezone.now())
        if changed:
            collection_changed()
    return changed


def images_set_category(*, image_ids: Iterable[int], category: str) -> int:
    """Give images one category (blank clears it); returns how many rows were updated."""
    category = category.strip()
    if len(category) > CATEGORY_MAX_LENGTH:
        raise CurationError(f"A category is at most {CATEGORY_MAX_LENGTH} characters long.")
    updated = Image.objects.filter(id__in=list(image_ids)).update(category=category, updated_at=timezone.now())
    if updated:
        collection_changed()
    return updated


@transaction.atomic
def image_caption_edit(*, image: Image, caption: str, user: AbstractBaseUser | None) -> CaptionRevision:
    """Set a curated caption (the captioner never overwrites it) and record it in the caption history.

    The first edit also records the caption it replaces, so the captioner's text can always be restored.
    """
    image = Image.objects.select_for_update().get(id=image.id)
    if not image.caption_revisions.exists() and image.caption:
        CaptionRevision.objects.create(
            image=image, caption=image.caption, curated=image.caption_curated, caption_model=image.caption_model
        )
    image.caption = caption.strip()
    image.caption_curated = True
    # The caption's vector described the old text; the captioning work re-embeds captions that have none.
    image.caption_embedding = None
    image.caption_embedding_model = ""
    image.save(
        update_fields=["caption", "caption_curated", "caption_embedding", "caption_embedding_model", "updated_at"]
    )
    collection_changed()  # results show the caption
    return CaptionRevision.objects.create(image=image, caption=image.caption, curated=True, created_by=user)


def caption_revision_restore(*, revision: CaptionRevision, user: AbstractBaseUser | None) -> CaptionRevision:
    """Make an earlier caption the current one again (as a new curated revision, so the restore is undoable)."""
    return image_caption_edit(image=revision.image, caption=revision.caption, user=user)


def duplicates_resolve(*, keep_id: int, image_ids: Iterable[int]) -> list[int]:
    """Keep one image of a duplicate group visible and hide the others; returns the ids hidden."""
    others = {int(image_id) for image_id in image_ids} - {keep_id}
    if not Image.objects.filter(id=keep_id).exists():
        raise CurationError("The image to keep no longer exists.")
    if not others:
        raise CurationError("The group has no other image to hide.")
    return images_set_hidden(image_ids=others, hidden=True)


@transaction.atomic
def image_update(
    *,
    image: Image,
    user: AbstractBaseUser | None,
    caption: str | None = None,
    category: str | None = None,
    hidden: bool | None = None,
) -> Image:
    """Apply the given changes (None: leave as is); an edited caption is curated and gets a CaptionRevision."""
    if caption is not None and caption.strip() != image.caption:
        image_caption_edit(image=image, caption=caption, user=user)
    if category is not None:
        images_set_category(image_ids=[image.id], category=category)
    if hidden is not None:
        images_set_hidden(image_ids=[image.id], hidden=hidden)
    image.refresh_from_db()
    return image
