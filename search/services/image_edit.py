"""A curator's edit of one image's caption, category and visibility, all applied or none."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from search.models import Image
from search.services.curation import image_caption_edit, images_set_category, images_set_hidden


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
