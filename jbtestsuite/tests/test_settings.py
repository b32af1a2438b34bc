import secrets

import pytest
from cryptography.fernet import Fernet

from conftest import manage
from jbtestsuite.env import Config, ConfigError

ISOLATED = {"ENVIRONMENT": "testing"}


@pytest.fixture
def config(monkeypatch, tmp_path):
    for name in ("JB_INT", "JB_BOOL", "JB_LIST", "JB_URL", "JB_DB", "JB_STR"):
        monkeypatch.delenv(name, raising=False)
    return Config(env_file=tmp_path / "absent.env")


def test_it_uses_defaults_for_unset_and_blank_variables(config, monkeypatch):
    monkeypatch.setenv("JB_INT", "  ")
    assert config.int("JB_INT", 7) == 7
    assert config.bool("JB_BOOL", True) is True
    assert config.list("JB_LIST", ["a"]) == ["a"]


def test_it_parses_good_values(config, monkeypatch):
    monkeypatch.setenv("JB_INT", "10_485_760")
    monkeypatch.setenv("JB_BOOL", "off")
    monkeypatch.setenv("JB_LIST", "https://a.example, https://b.example,,")
    monkeypatch.setenv("JB_DB", "postgres://u:p@db.internal:5433/jb")
    assert config.int("JB_INT", 0, minimum=1) == 10_485_760
    assert config.bool("JB_BOOL", True) is False
    assert config.list("JB_LIST", []) == ["https://a.example", "https://b.example"]
    db = config.database("JB_DB", "sqlite:///x")
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "jb",
    )


@pytest.mark.parametrize(
    ("name", "value", "call", "expected"),
    [
        ("JB_INT", "ten", lambda c: c.int("JB_INT", 1), "expected an integer"),
        ("JB_INT", "0", lambda c: c.int("JB_INT", 1, minimum=1), "expected an integer >= 1"),
        ("JB_BOOL", "maybe", lambda c: c.bool("JB_BOOL", False), "expected true or false"),
        ("JB_STR", "prod", lambda c: c.str("JB_STR", "a", choices=("a", "b")), "expected one of a, b"),
        ("JB_DB", "foo", lambda c: c.database("JB_DB", "sqlite:///x"), "expected a URL starting with postgres://"),
        ("JB_URL", "redis:///nohost", lambda c: c.url("JB_URL", "", schemes=("redis",)), "expected a URL"),
    ],
)
def test_it_names_the_variable_and_the_expectation_for_bad_values(config, monkeypatch, name, value, call, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as excinfo:
        call(config)
    assert str(excinfo.value).startswith(f"{name}=")
    assert expected in str(excinfo.value)


def test_it_hides_passwords_in_url_errors(config, monkeypatch):
    monkeypatch.setenv("JB_URL", "mysql://user:hunter2@db/x")
    with pytest.raises(ConfigError) as excinfo:
        config.database("JB_URL", "sqlite:///x")
    assert "hunter2" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DATABASE_URL": "foo"}, "DATABASE_URL='foo' is invalid"),
        ({"MAX_UPLOAD_SIZE": "ten"}, "MAX_UPLOAD_SIZE='ten' is invalid: expected an integer"),
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT='prod' is invalid: expected one of development, testing"),
        ({"ENVIRONMENT": "production", "ALLOWED_HOSTS": "x.example"}, "SECRET_KEY is required"),
        ({"ENVIRONMENT": "production", "SECRET_KEY": "k" * 60}, "ALLOWED_HOSTS is required"),
    ],
)
def test_it_stops_start_up_with_one_line_naming_the_variable(env, needle, tmp_path):
    result = manage("check", env={"DATA_DIR": str(tmp_path), **ISOLATED, **env})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("configuration error: ")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_it_passes_check_deploy_in_production(tmp_path):
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECRETS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "jbtestsuite.example.com",
        "DATA_DIR": str(tmp_path),
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
