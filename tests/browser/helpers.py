"""Shared steps of the browser tests: signing up, indexing rendered scenes."""

from __future__ import annotations

import io
import re

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


def shown_ids(page) -> list[int]:
    return [
        int(value)
        for value in page.locator("#result-grid .result").evaluate_all("els => els.map(e => e.dataset.imageId)")
    ]


def search(page, text: str, *, k: int | None = None) -> None:
    """From the home page: a description, then Search; waits for the session page and its live socket."""
    page.get_by_label("Describe it").fill(text)
    if k is not None:
        page.get_by_text("More options").click()
        page.get_by_label("Pictures", exact=True).fill(str(k))
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    page.wait_for_selector("body[data-socket=open]")


def axe_check(page, what: str) -> dict:
    """axe-core (bundled with axe-playwright-python, no CDN) on the page as it is: no serious or critical
    violation; returns {rule: impact} of every violation, for the summary."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    found = {violation["id"]: violation["impact"] for violation in violations}
    AXE_SUMMARY[what] = found
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    details = [(v["id"], v["impact"], [node["target"] for node in v["nodes"][:3]]) for v in serious]
    assert not serious, f"{what}: {details}"
    return found


AXE_SUMMARY: dict[str, dict[str, str]] = {}


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
