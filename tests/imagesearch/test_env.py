import pytest
from django.core.exceptions import ImproperlyConfigured

from imagesearch.env import env_bool, env_choice, env_float, env_int, env_list


def test_reads_typed_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_FLOAT", "0.25")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 1) == 42
    assert env_float("X_FLOAT", 1.0) == 0.25
    assert env_list("X_LIST", []) == ["a", "b", "c"]
    assert env_int("X_UNSET", 7) == 7


@pytest.mark.parametrize(
    ("reader", "value"),
    [(env_bool, "maybe"), (env_int, "ten"), (env_float, "1,5")],
)
def test_bad_values_stop_start_up_with_the_name(monkeypatch, reader, value):
    monkeypatch.setenv("X_BAD", value)
    with pytest.raises(ImproperlyConfigured, match="X_BAD"):
        reader("X_BAD", 0)


def test_range_is_checked(monkeypatch):
    monkeypatch.setenv("X_INT", "0")
    with pytest.raises(ImproperlyConfigured, match=">= 1"):
        env_int("X_INT", 5, minimum=1)


def test_a_choice_is_one_of_its_values_in_any_case(monkeypatch):
    monkeypatch.setenv("X_CHOICE", " BFloat16 ")
    assert env_choice("X_CHOICE", "auto", ("auto", "bfloat16")) == "bfloat16"
    assert env_choice("X_UNSET", "auto", ("auto", "bfloat16")) == "auto"
    monkeypatch.setenv("X_CHOICE", "fp8")
    with pytest.raises(ImproperlyConfigured, match="X_CHOICE must be one of auto, bfloat16"):
        env_choice("X_CHOICE", "auto", ("auto", "bfloat16"))
