"""The compose.yaml deployment, without a container engine: the very commands its services run (migrate, then the
web server with several uvicorn workers, the Celery worker and beat), read from compose.yaml with its environment,
against PostgreSQL and Redis over TCP on 127.0.0.1, DEBUG off, JSON logs on. Driven from outside: a search over HTTP,
a session turn over the websocket, an ingest job, the image's health check, /metrics, and a request id followed from
the web server's log into the worker's.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid

import aiohttp
import psutil
import pytest
from PIL import Image, ImageDraw
from prometheus_client.parser import text_string_to_metric_families

from imagesearch.procfile import ROOT, Stack, free_port, isolated_environment, prepare, wait_until_healthy
from tests.deploy.files import dockerfile_instructions, service_commands, service_environment
from tests.system.client import Browser, api_headers, http_session
from tests.system.stack import PASSWORD, SHIPPED_CHECKPOINT, USERNAME, System, tcp_servers, wait_for

SERVICES = ("migrate", "web", "worker", "beat")
METRICS_TOKEN = "compose-stack-metrics-token"
SECRET_KEY = "compose-stack-secret-key-not-for-production-0123456789"


def compose_environment(var_dir, port: int, database_url: str, redis_url: str) -> dict[str, str]:
    """compose.yaml's environment for its app services, and what differs outside a container: the servers' addresses
    (127.0.0.1 instead of the service names), where files go, the port, two web processes for two cores."""
    compose = service_environment(SERVICES, {"SECRET_KEY": SECRET_KEY, "METRICS_TOKEN": METRICS_TOKEN})
    outside_a_container = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "MEDIA_ROOT": str(var_dir / "media"),
        "WEB_WORKERS": "2",
        "WORKER_CONCURRENCY": "1",
        "CLIP_THREADS": "1",
        "INGEST_THREADS": "1",
        "DDG_RETRIES": "0",
        "WEB_FETCH_TIMEOUT": "3",
    }
    return isolated_environment(var_dir, port) | compose | outside_a_container


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> System:
    if not SHIPPED_CHECKPOINT.exists():
        pytest.skip("the shipped imagesearch-tiny checkpoint is missing")
    var_dir = tmp_path_factory.mktemp("compose")
    (var_dir / "logs").mkdir()
    port = free_port()
    with tcp_servers(var_dir) as (database_url, redis_url):
        env = compose_environment(var_dir, port, database_url, redis_url)
        stack = Stack(env=env, log_dir=var_dir / "logs", commands=service_commands(SERVICES))
        system = System(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", "", stack, var_dir, env)
        try:
            stack.start("migrate")
            assert stack.processes["migrate"].wait(timeout=300) == 0, stack.log("migrate")
            system.token = prepare(env, var_dir, demo_images=20, username=USERNAME, password=PASSWORD, superuser=True)
            stack.start("web", "worker", "beat")
            wait_until_healthy(f"{system.url}/api/health/", processes={"web": stack.processes["web"]})
            yield system
        finally:
            stack.stop()


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return lines


def _samples(text: str) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_servers_listen_on_tcp_and_debug_is_off(deployed):
    assert deployed.env["DATABASE_URL"].startswith("postgres://postgres@127.0.0.1:")
    assert deployed.env["REDIS_URL"].startswith("redis://127.0.0.1:")
    assert deployed.env["DEBUG"] == "0" and deployed.env["LOG_FORMAT"] == "json"
    assert deployed.sql("SELECT inet_server_addr()::text")[0][0].startswith("127.0.0.1")
    assert (
        deployed.stack.commands["web"]
        == ".venv/bin/gunicorn -c python:imagesearch.gunicorn imagesearch.asgi:application"
    )


def test_a_search_over_http(deployed):
    async def scenario():
        async with aiohttp.ClientSession() as http:
            body = {"query": "a large red circle", "top_k": 5}
            async with http.post(f"{deployed.url}/api/search/", json=body, headers=api_headers(deployed)) as response:
                return response.status, await response.json(), response.headers["X-Request-ID"]

    status, body, request_id = asyncio.run(scenario())

    assert status == 200 and len(body["results"]) == 5
    assert len(request_id) == 32


def test_a_session_turn_over_the_websocket(deployed):
    async def scenario():
        async with http_session() as http:
            browser = await Browser(deployed, http).login()
            session_id = await browser.start_session("a small blue square")
            socket = await browser.socket(f"/ws/sessions/{session_id}/")
            await socket.send_str(json.dumps({"type": "turn", "key": uuid.uuid4().hex, "feedback": "more blue"}))
            while (reply := await asyncio.wait_for(socket.receive_json(), timeout=30))["type"] not in {"turn", "error"}:
                pass
            await socket.close()
            return reply

    reply = asyncio.run(scenario())

    assert reply["type"] == "turn" and reply["turn"]["id"]


def test_an_ingest_job_runs_on_the_worker(deployed, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(12):
        image = Image.new("RGB", (320, 240), ((n * 37) % 256, (n * 91) % 256, 200))
        ImageDraw.Draw(image).ellipse([n * 10, 20, 160 + n * 10, 180], fill=(250, (n * 20) % 256, 10))
        image.save(folder / f"photo-{n:02d}.jpg")

    job_id = deployed.ingest_job(folder)

    def finished():
        state, _, done, _, failed = deployed.job_counts(job_id)
        return (state, done, failed) if state in {"succeeded", "failed"} else None

    assert wait_for(finished, 120, "the ingest job finished") == ("succeeded", 12, 0)


def test_a_request_id_follows_the_work_into_the_task_it_queues(deployed):
    request_id = f"compose-{uuid.uuid4().hex[:12]}"

    async def scenario():
        async with http_session() as http:
            browser = await Browser(deployed, http).login()
            token = await browser._csrf("/fetch/")
            form = {"query": "red pandas", "count": "2", "category": "", "csrfmiddlewaretoken": token}
            headers = {"Referer": f"{deployed.url}/fetch/", "X-Request-ID": request_id}
            async with http.post(f"{deployed.url}/fetch/", data=form, headers=headers, allow_redirects=False) as r:
                return r.status, r.headers["X-Request-ID"]

    status, echoed = asyncio.run(scenario())

    assert (status, echoed) == (302, request_id)
    [request_line] = [
        line
        for line in _json_lines(deployed.stack.log("web"))
        if line.get("logger") == "imagesearch.requests" and line.get("request_id") == request_id
    ]
    task_line = wait_for(
        lambda: next(
            (
                line
                for line in _json_lines(deployed.stack.log("worker"))
                if line.get("logger") == "imagesearch.tasks" and line.get("request_id") == request_id
            ),
            None,
        ),
        60,
        "the worker logged the fetch task",
    )
    assert (request_line["route"], request_line["status"], request_line["method"]) == ("search:fetch", 302, "POST")
    assert request_line["user_id"] is not None
    assert task_line["task"] == "search.tasks.fetch.fetch_job_task" and task_line["outcome"] == "success"
    print("request:", json.dumps(request_line), "\ntask:   ", json.dumps(task_line))


def test_metrics_add_up_across_the_web_processes(deployed):
    headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}

    async def scenario():
        async with aiohttp.ClientSession() as http:

            async def scrape():
                async with http.get(f"{deployed.url}/metrics", headers=headers) as response:
                    assert response.status == 200
                    text = await response.text()
                    (deployed.var_dir / "logs" / "metrics.txt").write_text(text)  # a sample, for a reader
                    return _samples(text)

            async def health():
                async with http.get(f"{deployed.url}/api/health/") as response:
                    return response.headers["X-Request-ID"]

            async def search():
                body = {"query": f"a {uuid.uuid4().hex[:6]} triangle"}
                for _ in range(2):  # the second is answered from the result cache, whichever process takes it
                    async with http.post(f"{deployed.url}/api/search/", json=body, headers=api_headers(deployed)) as r:
                        assert r.status == 200

            async with http.get(f"{deployed.url}/metrics") as refused:
                assert refused.status == 403
            before = await scrape()
            await asyncio.gather(*(health() for _ in range(40)))
            await search()
            return before, await scrape()

    before, after = asyncio.run(scenario())

    route = (("method", "GET"), ("route", "api:health"), ("status", "200"))
    count = "imagesearch_http_request_duration_seconds_count"
    assert after[(count, route)] - before.get((count, route), 0) == 40  # both processes' requests, added up
    for counter in ("imagesearch_result_cache_hits_total", "imagesearch_result_cache_misses_total"):
        assert after[(counter, ())] - before.get((counter, ()), 0) >= 1
    assert {("imagesearch_celery_queue_length", (("queue", q),)) for q in ("default", "embed", "llm")} <= set(after)
    assert ("imagesearch_db_pool_connections", (("state", "max"),)) in after
    web_processes = psutil.Process(deployed.stack.pid("web")).children()
    files = " ".join(path.name for path in (deployed.var_dir / "metrics").iterdir())
    assert len(web_processes) == 2 and all(f"_{process.pid}.db" in files for process in web_processes)


def test_the_images_health_check_passes(deployed):
    [check] = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    argv = json.loads(check.split("CMD", 1)[1])
    done = subprocess.run(argv, cwd=ROOT, env=deployed.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
