"""A Celery worker on another host: started from a copy of the code in a folder of its own (not the repository), with
only what such a host has (DATABASE_URL and REDIS_URL over TCP, the shared media storage, the secret key, its own copy
of the model weights, thread settings), it ingests a folder job the main host queued. The main host runs the web
server and no worker; the photos and the media storage are folders both hosts reach at the same path.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil
import pytest
from PIL import Image, ImageDraw

from imagesearch.procfile import (
    ROOT,
    Stack,
    free_port,
    isolated_environment,
    prepare,
    procfile_commands,
    wait_until_healthy,
)
from search.encoder import model_key_for
from tests.system.client import Browser, api_headers, http_session
from tests.system.stack import PASSWORD, SHIPPED_CHECKPOINT, USERNAME, System, tcp_servers, wait_for

# What a deployment puts on the other host: the code and the Procfile; not tests/, var/, .env or the repository.
OTHER_HOST_CODE = ("manage.py", "Procfile", "imagesearch", "search", "accounts", "templates")
PHOTOS, BATCH = 6, 4  # 8 files (6 photos, a copy of one, a broken file): two batches, so two tasks
INGEST_TASK = "search.tasks.ingest.ingest_batch_task"


@dataclass
class TwoHosts:
    main: System  # the web server, run from the repository
    worker: Stack  # the other host's worker
    app: Path  # the other host's copy of the code, the worker's working directory
    photos: Path
    media: Path
    job_id: int


def _photos(folder: Path) -> None:
    folder.mkdir()
    for n in range(PHOTOS):
        image = Image.new("RGB", (320, 240), ((n * 41) % 256, (n * 83) % 256, 180))
        ImageDraw.Draw(image).ellipse([20 + n * 15, 30, 180 + n * 15, 200], fill=(240, (n * 40) % 256, 20))
        image.save(folder / f"photo-{n:02d}.jpg")
    shutil.copy(folder / "photo-00.jpg", folder / "photo-06-copy.jpg")
    (folder / "photo-07-broken.jpg").write_bytes(b"not a photo, whatever the name says")


def _other_host_checkout(home: Path) -> tuple[Path, Path]:
    """The other host's copy of the code (with the virtualenv installed beside it, as the Dockerfile puts it) and
    of the model weights; (its app folder, its checkpoint)."""
    app = home / "app"
    app.mkdir()
    for name in OTHER_HOST_CODE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, app / name, ignore=shutil.ignore_patterns("__pycache__", "var", "*.pyc"))
        else:
            shutil.copy(source, app / name)
    (app / ".venv").symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    weights = home / "models" / SHIPPED_CHECKPOINT.name
    weights.parent.mkdir()
    shutil.copy(SHIPPED_CHECKPOINT, weights)
    return app, weights


def _shared_settings(database_url: str, redis_url: str, media: Path) -> dict[str, str]:
    """What both hosts are configured with alike."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(media),
        "SECRET_KEY": "two-hosts-secret-key-not-for-production-0123456789",
        "CLIP_MODEL": "imagesearch-tiny",
        "CAPTION_MODEL": "",
        "LLM_MODEL": "",
        "CLIP_THREADS": "1",
        "INGEST_THREADS": "1",
        "INGEST_JOB_BATCH_SIZE": str(BATCH),
        "WORKER_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
    }


def _other_host_worker(home: Path, app: Path, weights: Path, shared: dict[str, str]) -> Stack:
    """The Procfile's worker of the other host, from its own folder, with the whole of its environment: no
    IMAGESEARCH_VAR_DIR, no .env, no path into the repository."""
    for folder in ("home", "logs"):
        (home / folder).mkdir()
    system = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home / "home"), "LANG": "C.UTF-8"}
    env = system | {"PYTHONUNBUFFERED": "1"} | shared | {"CLIP_PRETRAINED": str(weights)}
    return Stack(env=env, log_dir=home / "logs", cwd=app, commands=procfile_commands(app / "Procfile"))


def _main_host(var_dir: Path, shared: dict[str, str]) -> System:
    """The web server, run from the repository as the served-system tests run it (one process is enough here)."""
    (var_dir / "logs").mkdir()
    port = free_port()
    env = isolated_environment(var_dir, port, CLIP_PRETRAINED=str(SHIPPED_CHECKPOINT), WEB_WORKERS="1", **shared)
    stack = Stack(env=env, log_dir=var_dir / "logs")
    return System(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", "", stack, var_dir, env)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory) -> TwoHosts:
    if not SHIPPED_CHECKPOINT.exists():
        pytest.skip("the shipped imagesearch-tiny checkpoint is missing")
    shared_storage, main_var, other_host = map(tmp_path_factory.mktemp, ("shared", "mainhost", "otherhost"))
    photos, media = shared_storage / "photos", shared_storage / "media"
    _photos(photos)
    app, weights = _other_host_checkout(other_host)
    with tcp_servers(tmp_path_factory.mktemp("servers")) as (database_url, redis_url):
        shared = _shared_settings(database_url, redis_url, media)
        main, worker = _main_host(main_var, shared), _other_host_worker(other_host, app, weights, shared)
        try:
            worker.start("worker")  # it loads its model while the main host migrates
            main.token = prepare(main.env, main_var, demo_images=0, username=USERNAME, password=PASSWORD)
            main.stack.start("web")
            job_id = main.ingest_job(photos)
            wait_until_healthy(f"{main.url}/api/health/", processes=main.stack.processes)
            finished = {"succeeded", "failed", "cancelled"}
            wait_for(lambda: main.job_counts(job_id)[0] in finished, 120, "the job finished")
            yield TwoHosts(main, worker, app, photos, media, job_id)
        finally:
            main.stack.stop()
            worker.stop()


def _items(system: System, job_id: int) -> dict[str, tuple[str, str, int | None]]:
    rows = system.sql("SELECT source, state, reason, image_id FROM search_jobitem WHERE job_id = %s", (job_id,))
    return {Path(source).name: (state, reason, image_id) for source, state, reason, image_id in rows}


def _task_lines(log: str) -> list[dict]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "imagesearch.tasks" and line.get("task") == INGEST_TASK]


def test_the_job_succeeds_with_every_file_accounted_for(hosts):
    items = _items(hosts.main, hosts.job_id)

    assert hosts.main.job_counts(hosts.job_id) == ("succeeded", PHOTOS + 2, PHOTOS, 1, 1)
    assert {name: state for name, (state, _, _) in items.items()} == {
        **{f"photo-{n:02d}.jpg": "done" for n in range(PHOTOS)},
        "photo-06-copy.jpg": "skipped",
        "photo-07-broken.jpg": "failed",
    }
    assert items["photo-06-copy.jpg"][1:] == ("already indexed", items["photo-00.jpg"][2])
    assert "not an image that can be read" in items["photo-07-broken.jpg"][1], items["photo-07-broken.jpg"]


def test_the_images_have_vectors_and_thumbnails_in_the_shared_storage(hosts):
    rows = hosts.main.sql(
        "SELECT original_name, vector.embedding IS NOT NULL, vector.embedding_model, file, thumbnail "
        "FROM search_image AS image LEFT JOIN search_imagevector AS vector ON vector.image_id = image.id "
        "ORDER BY original_name"
    )

    assert [row[:2] for row in rows] == [(f"photo-{n:02d}.jpg", True) for n in range(PHOTOS)]
    # Its own copy of the weights, at another path: the key names the content, so the main host searches them.
    assert {row[2] for row in rows} == {model_key_for("imagesearch-tiny", str(SHIPPED_CHECKPOINT))}
    for _, _, _, original, thumbnail in rows:
        assert (hosts.media / original).is_file() and (hosts.media / thumbnail).is_file()


def test_the_tasks_ran_in_the_other_hosts_worker(hosts):
    worker = psutil.Process(hosts.worker.pid("worker"))
    pool = worker.children()

    assert [line["outcome"] for line in _task_lines(hosts.worker.log("worker"))] == ["success", "success"]
    assert "worker" not in hosts.main.stack.processes  # the main host queues; it runs no worker
    assert {worker.cwd()} | {child.cwd() for child in pool} == {str(hosts.app)}
    assert not any(str(ROOT) in value for value in hosts.worker.env.values())
    # Python wrote the bytecode of the task's module beside the copy it imported (the copy had none).
    assert list((hosts.app / "search" / "tasks" / "__pycache__").glob("ingest.*.pyc"))


def test_the_worker_started_no_embedded_servers(hosts):
    descendants = psutil.Process(hosts.worker.pid("worker")).children(recursive=True)

    assert not {process.name() for process in descendants} & {"postgres", "redis-server"}
    assert not (hosts.app / "var").exists()  # its VAR_DIR: no embedded PostgreSQL, no embedded Redis, nothing
    assert not (hosts.main.var_dir / "pgdata").exists() and not (hosts.main.var_dir / "redis").exists()


def test_the_main_host_finds_and_serves_what_the_other_host_ingested(hosts):
    async def scenario():
        async with http_session(headers=api_headers(hosts.main)) as http:

            async def search(**body) -> list[dict]:
                async with http.post(f"{hosts.main.url}/api/search/", **body) as response:
                    assert response.status == 200, await response.text()
                    return (await response.json())["results"]

            by_text = await search(json={"query": "an orange circle", "top_k": 10})
            by_image = aiohttp.FormData({"top_k": "3"})
            by_image.add_field("image", (hosts.photos / "photo-03.jpg").read_bytes(), filename="photo-03.jpg")
            hits = await search(data=by_image)
            await Browser(hosts.main, http).login()
            async with http.get(f"{hosts.main.url}{hits[0]['thumbnail_url']}") as response:
                return by_text, hits, response.status, response.content_type, await response.read()

    by_text, by_image, status, content_type, thumbnail = asyncio.run(scenario())

    ids = dict(hosts.main.sql("SELECT original_name, id FROM search_image"))
    assert sorted(hit["id"] for hit in by_text) == sorted(ids.values()) and len(ids) == PHOTOS
    assert by_image[0]["id"] == ids["photo-03.jpg"] and by_image[0]["score"] > 0.99
    assert (status, content_type) == (200, "image/webp") and thumbnail
