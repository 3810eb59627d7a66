"""The served stack, started from the Procfile's own commands: one process per line, each on its own.

`make run` starts the Procfile with honcho, which stops everything when one process ends. The served-system tests
(tests/system) and the HTTP load benchmark need the same commands with a difference: each process can be killed,
inspected and restarted alone, as a supervisor (systemd, Kubernetes) would restart it in production.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


def procfile_commands(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """{name: shell command} for each `name: command` line of a Procfile."""
    commands = {}
    for line in path.read_text().splitlines():
        name, separator, command = line.partition(":")
        if line.strip() and not line.lstrip().startswith("#") and separator:
            commands[name.strip()] = command.strip()
    return commands


@dataclass
class Stack:
    """The Procfile's processes, started with `env` from `cwd`, their output in log_dir/<name>.log."""

    env: dict[str, str]
    log_dir: Path
    cwd: Path = ROOT
    commands: dict[str, str] = field(default_factory=procfile_commands)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: dict[str, IO] = field(default_factory=dict)

    def start(self, *names: str) -> None:
        for name in names or tuple(self.commands):
            self._logs[name] = (self.log_dir / f"{name}.log").open("a")
            # A shell expands ${VAR:-default} like honcho does; exec makes the command the process we signal.
            self.processes[name] = subprocess.Popen(
                ["bash", "-c", f"exec {self.commands[name]}"],
                cwd=self.cwd,
                env=self.env,
                stdout=self._logs[name],
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopping it stops its children too
            )

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process alone (not its children): kill -9 of a main process, as a crash would."""
        os.kill(self.pid(name), sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            self.processes[name].wait(timeout=30)

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def stop(self, *names: str, timeout: float = 20.0) -> None:
        """Stop the processes (all by default) and everything they started, gracefully, then by force."""
        for name in names or tuple(self.processes):
            process = self.processes.pop(name)
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
            _signal_group(process, signal.SIGKILL)  # children a killed main process left behind
            self._logs.pop(name).close()

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(process.pid, sig)


def wait_until_healthy(url: str, *, timeout: float = 120.0, processes: dict | None = None) -> None:
    """Wait until `url` (a health endpoint) answers 200; fail early if one of `processes` exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for name, process in (processes or {}).items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last = str(error)
        time.sleep(0.5)
    raise RuntimeError(f"{url} was not healthy within {timeout:.0f} s ({last})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def isolated_environment(var_dir: Path, port: int, **settings: str) -> dict[str, str]:
    """An environment for a stack of its own in `var_dir`: its own embedded PostgreSQL and Redis, no .env read,
    DEBUG off, served on 127.0.0.1:`port`; `settings` add to it or replace its values."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "IMAGESEARCH_ENV_FILE": str(var_dir / "no.env"),  # nothing from a developer's .env
        "IMAGESEARCH_VAR_DIR": str(var_dir),
        "SECRET_KEY": "isolated-stack-secret-key-not-for-production-0123456789",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "CAPTION_MODEL": "",
        "LLM_MODEL": "",
        **settings,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run a management command the way an operator would, with `env`; its output (a failure raises, with it)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(
    env: dict[str, str], var_dir: Path, *, demo_images: int, username: str, password: str, superuser: bool = False
) -> str:
    """What `make run` does before serving (migrate, collectstatic, a demo collection unless `demo_images` is 0), then
    a user; its API key.

    For a stack in a folder of its own (IMAGESEARCH_VAR_DIR in `env`): the served-system tests and the HTTP
    load benchmark. The commands are make's own, run one after the other in one process (each of its own would
    pay for starting Python and torch again).
    """
    demo = str(var_dir / "demo")
    create = "create_superuser" if superuser else "create_user"
    steps = [("migrate", "--noinput"), ("collectstatic", "--noinput", "--verbosity", "0")]
    if demo_images:
        steps += [
            ("make_dataset", demo, "--train", "0", "--test", str(demo_images), "--seed", "7"),
            ("ingest", demo + "/images"),
            ("import_captions", demo),
        ]
    script = (
        "from django.core.management import call_command; "
        + "".join(f"call_command(*{list(step)!r}); " for step in steps)
        + "from django.contrib.auth.models import User; from accounts.services import token_create; "
        f"user = User.objects.{create}({username!r}, password={password!r}); "
        "print('API key:', token_create(user=user, name='served stack').key)"
    )
    output = manage(env, "shell", "-c", script)
    return output.split("API key:")[-1].split()[0]


def stop_embedded_servers(env: dict[str, str], var_dir: Path) -> None:
    """Stop the embedded PostgreSQL and Redis a stack in `var_dir` started."""
    script = (
        "from pathlib import Path; from imagesearch.embedded_postgres import stop_embedded_server; "
        "from imagesearch.redis_server import stop_embedded_redis; "
        f"stop_embedded_server(Path({str(var_dir / 'pgdata')!r})); "
        f"stop_embedded_redis(Path({str(var_dir / 'redis')!r}))"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, timeout=60, check=False)
