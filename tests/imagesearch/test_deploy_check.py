"""`manage.py check --deploy` is clean with the documented production settings (deploy/production.env.example)."""

import secrets
import subprocess
import sys

from imagesearch.procfile import ROOT


def test_the_documented_production_settings_pass_the_deploy_check(tmp_path):
    example = (ROOT / "deploy" / "production.env.example").read_text()
    env_file = tmp_path / "production.env"
    env_file.write_text(example.replace("SECRET_KEY=change-me", f"SECRET_KEY={secrets.token_urlsafe(50)}"))
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "IMAGESEARCH_ENV_FILE": str(env_file), "IMAGESEARCH_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
