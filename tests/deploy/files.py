"""Reading the deployment files as Docker and Compose would, and what the project knows as a setting."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from imagesearch.procfile import ROOT, procfile_commands

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
# Read by libraries or servers rather than settings.py, and meant to be set: prometheus-client's multiprocess folder.
OTHER_KNOWN = {"PROMETHEUS_MULTIPROC_DIR", "DJANGO_SETTINGS_MODULE", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def app_services() -> dict[str, dict]:
    """The services that run the project's image (not PostgreSQL or Redis)."""
    return {name: service for name, service in compose()["services"].items() if "build" in service}


def known_settings() -> set[str]:
    """Every variable the code reads through imagesearch/env.py's helpers, and every one .env.example lists."""
    read = set()
    for path in (ROOT / "imagesearch").glob("*.py"):
        read |= set(re.findall(r'\benv_[a-z]+\(\s*"([A-Z][A-Z0-9_]*)"', path.read_text()))
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    return read | listed | OTHER_KNOWN


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
            pending = ""
    return instructions


def procfile_argv() -> dict[str, list[str]]:
    return {name: shlex.split(command) for name, command in procfile_commands().items()}


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, from `variables` (Compose's .env and shell)."""

    def one(match: re.Match) -> str:
        name, operator, argument = match.groups()
        if variables.get(name):
            return variables[name]
        if operator == "?":
            raise KeyError(f"{name}: {argument}")
        return argument or ""

    return _VARIABLE.sub(one, str(value))


def service_environment(names: tuple[str, ...], variables: dict[str, str]) -> dict[str, str]:
    """The environment compose.yaml gives the named app services (merged), interpolated from `variables`."""
    merged: dict[str, str] = {}
    for name in names:
        merged |= {key: interpolate(value, variables) for key, value in app_services()[name]["environment"].items()}
    return merged


def service_commands(names: tuple[str, ...]) -> dict[str, str]:
    """{service: its command as one shell line}, exactly as compose.yaml writes it."""
    return {name: shlex.join(app_services()[name]["command"]) for name in names}
