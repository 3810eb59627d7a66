"""Photos added through POST /api/images/ on the served stack: a small batch answered file by file, a large one
staged and ingested by the real Celery worker as a job whose progress the API reports, staged files gone after."""

from __future__ import annotations

import asyncio
import io
import random
import time

import aiohttp
from PIL import Image

from search.files import FileStream
from tests.system.client import api_headers, http_session
from tests.system.stack import USERNAME

JOB_BOUND_SECONDS = 120


def photo(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), ((n * 53) % 256, (n * 97) % 256, (n * 29) % 256)).save(buffer, "JPEG")
    return buffer.getvalue()


def form(files: list[tuple[str, bytes]]) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for name, content in files:
        data.add_field("files", content, filename=name, content_type="application/octet-stream")
    return data


def grant_add_image(system) -> None:
    system.sql(
        "INSERT INTO auth_user_user_permissions (user_id, permission_id) "
        "SELECT u.id, p.id FROM auth_user u, auth_permission p JOIN django_content_type c ON c.id = p.content_type_id "
        "WHERE u.username = %s AND p.codename = 'add_image' AND c.app_label = 'search' ON CONFLICT DO NOTHING "
        "RETURNING id",
        (USERNAME,),
    )


def test_uploads_small_and_large_through_the_served_stack(system):
    grant_add_image(system)

    async def scenario():
        async with http_session(headers=api_headers(system)) as http:
            small = [("first.jpg", photo(1001)), ("bad.jpg", b"not a photo"), ("second.jpg", photo(1002))]
            async with http.post(f"{system.url}/api/images/", data=form(small)) as response:
                assert response.status == 201, await response.text()
                outcomes = (await response.json())["results"]
            assert [outcome["state"] for outcome in outcomes] == ["added", "refused", "added"]

            large = [(f"batch-{n}.jpg", photo(2000 + n)) for n in range(12)]
            async with http.post(f"{system.url}/api/images/", data=form(large)) as response:
                assert response.status == 202, await response.text()
                job = (await response.json())["job"]
            deadline = time.monotonic() + JOB_BOUND_SECONDS
            while job["state"] not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
                await asyncio.sleep(1)
                async with http.get(f"{system.url}{job['url']}") as response:
                    job = await response.json()
            return job

    job = asyncio.run(scenario())
    assert (job["kind"], job["state"], job["total"], job["done"], job["failed"]) == ("upload", "succeeded", 12, 12, 0)
    names = {row[0] for row in system.sql("SELECT original_name FROM search_image WHERE source = 'upload'")}
    assert {f"batch-{n}.jpg" for n in range(12)} | {"first.jpg", "second.jpg"} <= names
    media = system.var_dir / "media"
    assert (media / "thumbnails").is_dir(), "the stack's media folder is elsewhere: the check below would be empty"
    staged = media / "uploads" / str(job["id"])
    assert not staged.exists() or not any(path.is_file() for path in staged.rglob("*"))


def test_an_original_of_many_blocks_downloads_byte_for_byte_through_the_served_stack(system):
    # Larger than a FileStream block: under uvicorn the file goes out block by block (search.files.FileStream).
    grant_add_image(system)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (800, 600), random.Random(7).randbytes(800 * 600 * 3)).save(buffer, "PNG")
    original = buffer.getvalue()
    assert len(original) > 4 * FileStream.block_size

    async def scenario():
        async with http_session(headers=api_headers(system)) as http:
            async with http.post(f"{system.url}/api/images/", data=form([("noise.png", original)])) as response:
                assert response.status == 201, await response.text()
            (image_id,) = system.sql("SELECT id FROM search_image WHERE original_name = 'noise.png'")[0]
            async with http.get(f"{system.url}/api/images/{image_id}/download/") as response:
                assert response.status == 200, await response.text()
                return response.headers["Content-Type"], await response.read()

    content_type, downloaded = asyncio.run(scenario())
    assert content_type == "image/png" and downloaded == original
