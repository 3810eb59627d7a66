"""The Dockerfile, read instruction by instruction: multi-stage, CPU wheels unless told, a non-root user, static files
collected at build, a health check on /api/health/, and the Procfile's web command."""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path

from imagesearch.procfile import ROOT
from tests.deploy.files import dockerfile_instructions, known_settings, procfile_argv

INSTRUCTIONS = dockerfile_instructions()


def _final_stage() -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(INSTRUCTIONS) if keyword == "FROM")
    return INSTRUCTIONS[last_from:]


def _json_argv(arguments: str) -> list[str]:
    import json

    return json.loads(arguments)


def test_it_builds_in_stages_and_the_runtime_stage_runs_as_a_user():
    assert sum(keyword == "FROM" for keyword, _ in INSTRUCTIONS) >= 2
    users = [arguments for keyword, arguments in _final_stage() if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_torch_wheels_are_cpu_only_by_default_and_the_index_is_a_build_argument():
    args = dict(arguments.split("=", 1) for keyword, arguments in INSTRUCTIONS if keyword == "ARG" and "=" in arguments)
    assert args["TORCH_INDEX_URL"].endswith("/whl/cpu")
    installs = [arguments for keyword, arguments in INSTRUCTIONS if keyword == "RUN" and "pip install" in arguments]
    assert any('--index-url "$TORCH_INDEX_URL"' in run for run in installs)
    assert any("-c requirements.lock" in run for run in installs), "the image installs the locked versions"
    groups = ("requirements.txt", "requirements-captions.txt", "requirements-web.txt", "requirements-s3.txt")
    assert all(any(f"-r {group}" in run for run in installs) for group in groups), "every feature works in the image"


def test_static_files_are_collected_at_build_without_services():
    [collect] = [arguments for keyword, arguments in INSTRUCTIONS if keyword == "RUN" and "collectstatic" in arguments]
    assert "manage.py collectstatic --noinput" in collect
    assert "DATABASE_URL=" in collect and "REDIS_URL=" in collect  # or manage.py would start embedded servers


def test_the_health_check_asks_the_health_endpoint_through_a_module_that_exists():
    [check] = [arguments for keyword, arguments in _final_stage() if keyword == "HEALTHCHECK"]
    argv = _json_argv(check.split("CMD", 1)[1])
    assert argv[:3] == [".venv/bin/python", "-m", "imagesearch.healthcheck"]
    spec = importlib.util.find_spec(argv[2])
    assert spec is not None and "/api/health/" in Path(spec.origin).read_text()


def test_the_default_command_is_the_procfiles_web_server():
    [cmd] = [arguments for keyword, arguments in _final_stage() if keyword == "CMD"]
    assert _json_argv(cmd) == procfile_argv()["web"]


def test_every_variable_the_image_sets_is_a_known_setting():
    names = set()
    for keyword, arguments in _final_stage():
        if keyword == "ENV":
            names |= {pair.split("=", 1)[0] for pair in shlex.split(arguments)}
    assert names and not names - known_settings()


def test_what_it_copies_exists_and_secrets_and_local_state_stay_out():
    for keyword, arguments in INSTRUCTIONS:
        if keyword == "COPY" and not arguments.startswith("--from"):
            for source in shlex.split(arguments)[:-1]:
                assert source == "." or list(ROOT.glob(source)), f"COPY {source}: nothing there"
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".env", ".venv", "var", ".git"} <= ignored
