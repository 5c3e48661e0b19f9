"""The typed environment readers refuse bad values, naming the variable, and accept good ones."""

import os
import stat
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mstoutcomes.core.env import (
    env_bool,
    env_int,
    env_list,
    env_path,
    env_secret,
    env_str,
    secret_key_from,
)

LONG_KEY = "k" * 40


def test_env_str_returns_the_default_when_unset():
    assert env_str("MST_NAME", "default", environ={}) == "default"


def test_env_str_returns_the_value_when_set_even_if_empty():
    assert env_str("MST_NAME", "default", environ={"MST_NAME": "value"}) == "value"
    assert env_str("MST_NAME", "default", environ={"MST_NAME": ""}) == ""


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_returns_the_default_when_unset(default):
    assert env_bool("MST_FLAG", default, environ={}) is default


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "on", " true "])
def test_env_bool_accepts_true_spellings(value):
    assert env_bool("MST_FLAG", False, environ={"MST_FLAG": value}) is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "OFF", ""])
def test_env_bool_accepts_false_spellings(value):
    assert env_bool("MST_FLAG", True, environ={"MST_FLAG": value}) is False


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled"])
def test_env_bool_refuses_anything_else_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match="MST_FLAG") as excinfo:
        env_bool("MST_FLAG", False, environ={"MST_FLAG": value})
    assert repr(value) in str(excinfo.value)
    assert "true/false" in str(excinfo.value)


def test_env_int_returns_the_default_when_unset():
    assert env_int("MST_WORKERS", 4, environ={}) == 4


def test_env_int_reads_a_whole_number_with_surrounding_spaces():
    assert env_int("MST_WORKERS", 4, environ={"MST_WORKERS": " 12 "}) == 12


def test_env_int_accepts_the_bounds_themselves():
    environ_low, environ_high = {"N": "1"}, {"N": "10"}
    assert env_int("N", 5, minimum=1, maximum=10, environ=environ_low) == 1
    assert env_int("N", 5, minimum=1, maximum=10, environ=environ_high) == 10


@pytest.mark.parametrize("value", ["many", "1.5", "", "0x10"])
def test_env_int_refuses_a_value_that_is_not_a_whole_number(value):
    with pytest.raises(ImproperlyConfigured, match=r"MST_WORKERS=.* is not a whole number"):
        env_int("MST_WORKERS", 4, environ={"MST_WORKERS": value})


def test_env_int_refuses_a_value_below_the_minimum():
    with pytest.raises(ImproperlyConfigured, match="MST_WORKERS=0 is below the minimum of 1"):
        env_int("MST_WORKERS", 4, minimum=1, environ={"MST_WORKERS": "0"})


def test_env_int_refuses_a_value_above_the_maximum():
    with pytest.raises(ImproperlyConfigured, match="MST_WORKERS=65 is above the maximum of 64"):
        env_int("MST_WORKERS", 4, maximum=64, environ={"MST_WORKERS": "65"})


def test_env_list_returns_a_copy_of_the_default_when_unset():
    default = ["localhost"]
    result = env_list("MST_HOSTS", default, environ={})
    assert result == ["localhost"]
    result.append("example.org")
    assert default == ["localhost"]


def test_env_list_splits_on_commas_and_drops_blank_items():
    environ = {"MST_HOSTS": " a.example.org, ,b.example.org ,"}
    assert env_list("MST_HOSTS", [], environ=environ) == ["a.example.org", "b.example.org"]


def test_env_list_of_an_empty_value_is_empty():
    assert env_list("MST_HOSTS", ["localhost"], environ={"MST_HOSTS": ""}) == []


def test_env_path_returns_the_default_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert env_path("MST_VAR", Path("var"), environ={}) == tmp_path.resolve() / "var"


def test_env_path_resolves_the_value_and_expands_the_home_directory(tmp_path):
    assert env_path("MST_VAR", Path("x"), environ={"MST_VAR": str(tmp_path)}) == tmp_path.resolve()
    home = env_path("MST_VAR", Path("x"), environ={"MST_VAR": "~/data"})
    assert home == (Path.home() / "data").resolve()


@pytest.mark.parametrize("value", ["", "   "])
def test_env_path_refuses_an_empty_value_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match="MST_VAR is set but empty"):
        env_path("MST_VAR", Path("var"), environ={"MST_VAR": value})


def test_env_secret_is_none_when_neither_variable_is_set():
    assert env_secret("MST_TOKEN", environ={}) is None


def test_env_secret_reads_the_variable():
    assert env_secret("MST_TOKEN", environ={"MST_TOKEN": "s3cret"}) == "s3cret"


def test_env_secret_reads_and_strips_the_file_named_by_name_file(tmp_path):
    secret_file = tmp_path / "token"
    secret_file.write_text("from-a-file\n")
    environ = {"MST_TOKEN_FILE": str(secret_file)}
    assert env_secret("MST_TOKEN", environ=environ) == "from-a-file"


def test_env_secret_refuses_both_name_and_name_file(tmp_path):
    secret_file = tmp_path / "token"
    secret_file.write_text("from-a-file")
    environ = {"MST_TOKEN": "inline", "MST_TOKEN_FILE": str(secret_file)}
    with pytest.raises(ImproperlyConfigured, match="either MST_TOKEN or MST_TOKEN_FILE"):
        env_secret("MST_TOKEN", environ=environ)


def test_env_secret_refuses_a_file_that_cannot_be_read(tmp_path):
    missing = tmp_path / "no-such-file"
    with pytest.raises(ImproperlyConfigured, match=r"MST_TOKEN_FILE=.*no-such-file.* cannot be"):
        env_secret("MST_TOKEN", environ={"MST_TOKEN_FILE": str(missing)})


def test_env_secret_refuses_a_directory_given_as_the_file(tmp_path):
    with pytest.raises(ImproperlyConfigured, match=r"MST_TOKEN_FILE=.* cannot be read"):
        env_secret("MST_TOKEN", environ={"MST_TOKEN_FILE": str(tmp_path)})


@pytest.mark.parametrize("value", ["", "  "])
def test_env_secret_refuses_an_empty_variable(value):
    with pytest.raises(ImproperlyConfigured, match="MST_TOKEN is set but empty"):
        env_secret("MST_TOKEN", environ={"MST_TOKEN": value})


def test_env_secret_refuses_an_empty_file(tmp_path):
    secret_file = tmp_path / "token"
    secret_file.write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="MST_TOKEN is set but empty"):
        env_secret("MST_TOKEN", environ={"MST_TOKEN_FILE": str(secret_file)})


def test_secret_key_from_returns_a_configured_key_without_touching_the_directory(tmp_path):
    var_dir = tmp_path / "var"
    assert secret_key_from(var_dir, environ={"SECRET_KEY": LONG_KEY}) == LONG_KEY
    assert not var_dir.exists()


def test_secret_key_from_reads_a_key_from_secret_key_file(tmp_path):
    key_file = tmp_path / "docker-secret"
    key_file.write_text(LONG_KEY + "\n")
    environ = {"SECRET_KEY_FILE": str(key_file)}
    assert secret_key_from(tmp_path / "var", environ=environ) == LONG_KEY


def test_secret_key_from_refuses_a_short_key(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be at least 32 characters"):
        secret_key_from(tmp_path, environ={"SECRET_KEY": "k" * 31})


def test_secret_key_from_creates_a_private_key_file_on_first_run(tmp_path):
    var_dir = tmp_path / "var"

    key = secret_key_from(var_dir, environ={})

    key_file = var_dir / "secret_key"
    assert key_file.read_text() == key
    assert len(key) >= 50
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_secret_key_from_reads_the_same_key_back_on_the_next_run(tmp_path):
    first = secret_key_from(tmp_path, environ={})
    second = secret_key_from(tmp_path, environ={})
    assert second == first


def test_secret_key_from_gives_each_new_deployment_its_own_key(tmp_path):
    first = secret_key_from(tmp_path / "one", environ={})
    second = secret_key_from(tmp_path / "two", environ={})
    assert first != second


def test_secret_key_from_prefers_the_environment_over_an_existing_key_file(tmp_path):
    secret_key_from(tmp_path, environ={})
    assert secret_key_from(tmp_path, environ={"SECRET_KEY": LONG_KEY}) == LONG_KEY


@pytest.mark.parametrize("content", ["", "\n", "too-short"])
def test_secret_key_from_refuses_a_key_file_holding_a_short_key(tmp_path, content):
    (tmp_path / "secret_key").write_text(content)
    with pytest.raises(ImproperlyConfigured, match="shorter than 32 characters: delete it"):
        secret_key_from(tmp_path, environ={})
