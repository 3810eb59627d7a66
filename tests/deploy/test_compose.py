"""compose.yaml, read as Compose reads it: every service runs a real entry point of the project with known settings.

No container engine runs on the project's machines; tests/system/test_compose_stack.py runs the same commands
against PostgreSQL and Redis over TCP.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest
from celery import Celery
from django.core.management import get_commands

from imagesearch.metrics import celery_queues
from imagesearch.procfile import ROOT
from tests.deploy.files import app_services, compose, known_settings, procfile_argv

APP_SERVICES = app_services()


def test_the_stack_has_pgvector_redis_migrations_web_worker_and_beat():
    services = compose()["services"]
    assert services["db"]["image"].startswith("pgvector/pgvector:")
    assert services["redis"]["image"].split("/")[-1].split(":")[0] in {"redis", "valkey"}
    assert set(APP_SERVICES) == {"migrate", "web", "worker", "beat"}
    assert {service["image"] for service in APP_SERVICES.values()} == {"imagesearch:latest"}


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_the_servers_run_the_procfiles_own_commands(name):
    assert APP_SERVICES[name]["command"] == procfile_argv()[name]


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_every_command_starts_an_executable_of_the_projects_venv(name):
    program = APP_SERVICES[name]["command"][0]
    assert program.startswith(".venv/bin/")
    assert (ROOT / program).exists(), f"{program} is not installed by the requirements"


def test_migrate_runs_a_management_command_that_exists():
    _python, script, command, *options = APP_SERVICES["migrate"]["command"]
    assert (script, command, options) == ("manage.py", "migrate", ["--noinput"])
    assert command in get_commands()


def test_the_web_command_names_an_importable_config_and_application():
    _, flag, config, app_path = APP_SERVICES["web"]["command"]
    assert flag == "-c" and config.startswith("python:")
    assert importlib.util.find_spec(config.removeprefix("python:")) is not None
    module, attribute = app_path.split(":")
    # Parsed, not imported: importing the ASGI application starts servers and loads the encoder.
    tree = ast.parse(Path(importlib.util.find_spec(module).origin).read_text())
    assigned = {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets}
    assert attribute in assigned


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_celery_commands_name_the_celery_app_and_its_queues(name):
    argv = APP_SERVICES[name]["command"]
    assert argv[1:3] == ["-A", "imagesearch"]
    assert isinstance(importlib.import_module("imagesearch").celery_app, Celery)
    if "-Q" in argv:
        assert argv[argv.index("-Q") + 1].split(",") == celery_queues()


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_every_variable_a_service_sets_is_a_known_setting(name):
    unknown = set(APP_SERVICES[name].get("environment", {})) - known_settings()
    assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"


def test_the_app_waits_for_migrations_and_migrations_for_healthy_servers():
    assert APP_SERVICES["migrate"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    for name in ("web", "worker", "beat"):
        assert APP_SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert all("healthcheck" in compose()["services"][name] for name in ("db", "redis"))


def test_media_database_and_model_weights_live_in_volumes():
    services = compose()["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in ("web", "worker"):
        volumes = APP_SERVICES[name]["volumes"]
        assert "media:/app/var/media" in volumes and any(v.split(":")[1] == "/models" for v in volumes)
    assert {"pgdata", "media"} <= set(compose()["volumes"])


def test_the_default_checkpoint_is_shipped_in_the_image():
    default = APP_SERVICES["web"]["environment"]["CLIP_PRETRAINED"].split(":-")[1].rstrip("}")
    assert (ROOT / default).is_file()
    assert f"!{default}" in (ROOT / ".dockerignore").read_text().splitlines()


def test_the_web_server_runs_several_processes_and_only_the_web_server_is_health_checked():
    workers = APP_SERVICES["web"]["environment"]["WEB_WORKERS"]
    assert int(workers.split(":-")[1].rstrip("}")) >= 2
    assert "healthcheck" not in APP_SERVICES["web"]
    assert all(APP_SERVICES[name]["healthcheck"] == {"disable": True} for name in ("migrate", "worker", "beat"))


def test_known_settings_are_those_the_code_reads_or_env_example_lists():
    known = known_settings()
    assert {"CLIP_MODEL", "REDIS_URL", "METRICS_TOKEN", "LOG_FORMAT", "WORKER_CONCURRENCY"} <= known
    assert "CLIP_MODLE" not in known and "POSTGRES_PASSWORD" not in known
