"""Every setting read from the environment is documented: a row in the README's configuration table and a line in
.env.example, so the one configuration file lists them all."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Read only by the test session itself, never set by someone running the app.
TEST_ONLY = {"IMAGESEARCH_TEST_DB"}
# Says which file to read, so it can only come from the process environment.
NOT_IN_THE_FILE = {"IMAGESEARCH_ENV_FILE"}


def settings_read_from_the_environment() -> set[str]:
    names = set()
    for module in (ROOT / "imagesearch").glob("*.py"):
        names |= set(re.findall(r'env_[a-z]+\(\s*"([A-Z0-9_]+)"', module.read_text()))
    return names - TEST_ONLY


def test_the_settings_are_found():
    assert {"DATABASE_URL", "CLIP_MODEL", "SIGNUP_POLICY"} <= settings_read_from_the_environment()


@pytest.mark.parametrize("name", sorted(settings_read_from_the_environment()))
def test_each_setting_has_a_readme_row(name):
    table = (ROOT / "README.md").read_text()
    assert re.search(rf"^\|[^|\n]*`{name}`", table, re.MULTILINE), f"{name} has no row in README's Configuration"


@pytest.mark.parametrize("name", sorted(settings_read_from_the_environment() - NOT_IN_THE_FILE))
def test_each_setting_is_listed_in_the_env_example(name):
    example = (ROOT / ".env.example").read_text()
    assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), f"{name} is missing from .env.example"
