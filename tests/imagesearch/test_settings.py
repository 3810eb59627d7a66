"""Settings do no work at import time; the entry points start the embedded servers."""

import subprocess
import sys

from imagesearch.procfile import ROOT


def test_importing_settings_starts_nothing(tmp_path):
    script = "import imagesearch.settings as s; print(s.DEBUG, s.EMBEDDED_PGDATA is not None, s.REDIS_URL)"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "IMAGESEARCH_VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 50,
             "IMAGESEARCH_ENV_FILE": str(tmp_path / "none.env"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["False", "True"]
    assert list(tmp_path.iterdir()) == []  # no data folder, no socket: nothing was started


def test_without_a_secret_key_and_with_debug_off_start_up_stops(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import imagesearch.settings"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "IMAGESEARCH_ENV_FILE": str(tmp_path / "none.env"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "SECRET_KEY must be set" in done.stderr


def test_an_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "settings.env"
    env_file.write_text('# comment\nexport CLIP_MODEL="from-file"\nCLIP_BATCH_SIZE=7\nSECRET_KEY=' + "y" * 50 + "\n")
    script = "import imagesearch.settings as s; print(s.CLIP_MODEL, s.CLIP_BATCH_SIZE)"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "IMAGESEARCH_ENV_FILE": str(env_file), "CLIP_BATCH_SIZE": "9",
             "IMAGESEARCH_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.stdout.split() == ["from-file", "9"], done.stderr
