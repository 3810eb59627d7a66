"""Shared steps of the browser tests: signing up, indexing rendered scenes."""

from __future__ import annotations

import io

import numpy as np

PASSWORD = "a-long-browser-passphrase-7"


def sign_up(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    assert "/accounts/login/" in page.url, "anonymous visitors are sent to log in"
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base_url}/")


def index_scenes(scenes, encoder) -> list[int]:
    """Render, encode and store each scene as an image of the collection; their ids in order."""
    from search.imagefiles import load_image
    from search.lab.datasets.shapes import render_scene
    from search.models import Image
    from search.services.images import image_create

    loaded = []
    for seed, scene in enumerate(scenes):
        buffer = io.BytesIO()
        render_scene(scene, np.random.default_rng(seed)).save(buffer, format="PNG")
        loaded.append(load_image(buffer.getvalue(), max_pixels=10**7))
    vectors = encoder.encode_images([item.image for item in loaded])
    ids = []
    for index, (item, vector) in enumerate(zip(loaded, vectors, strict=True)):
        shape = scenes[index].objects[0]
        image = image_create(
            loaded=item,
            vector=vector,
            model_key=encoder.model_key,
            original_name=f"{shape.colour}-{shape.shape}-{index}.png",
            category="shapes",
        )
        caption = f"a {shape.size} {shape.colour} {shape.shape} on the {shape.position}"
        Image.objects.filter(pk=image.pk).update(caption=caption)
        ids.append(image.id)
    return ids
