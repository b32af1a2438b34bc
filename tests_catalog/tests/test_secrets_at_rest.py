"""Secret values are Fernet tokens in the database, readable with any listed key, rotatable."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import manage
from jbtestsuite import crypto
from tests_catalog import services
from tests_catalog.models import EnvironmentVariable

CANARY = "canary-at-rest-5jX"


def _raw_values() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM tests_catalog_environmentvariable ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def environment(project):
    return services.environment_create(
        project=project, name="staging", variables=[{"name": "password", "value": CANARY, "secret": True}]
    )


@pytest.mark.django_db
def test_it_stores_secret_values_encrypted(environment):
    (raw,) = _raw_values()
    assert CANARY not in raw
    assert raw.startswith(crypto.TOKEN_PREFIX)
    assert EnvironmentVariable.objects.get().value == CANARY


@pytest.mark.django_db
def test_it_reads_old_values_after_a_new_key_is_put_first_and_rotates_them(environment, settings):
    old_key = settings.SECRETS_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    (before,) = _raw_values()

    settings.SECRETS_ENCRYPTION_KEYS = [new_key, old_key]
    assert EnvironmentVariable.objects.get().value == CANARY
    call_command("secrets_rotate", stdout=open("/dev/null", "w"))  # noqa: SIM115
    (after,) = _raw_values()
    assert after != before

    settings.SECRETS_ENCRYPTION_KEYS = [new_key]  # the old key dropped after rotation
    assert EnvironmentVariable.objects.get().value == CANARY


@pytest.mark.django_db
def test_it_says_which_key_is_missing_without_showing_the_value(environment, settings):
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.SecretUnreadable) as excinfo:
        EnvironmentVariable.objects.get()
    assert "SECRETS_ENCRYPTION_KEYS" in str(excinfo.value)
    assert CANARY not in str(excinfo.value)


@pytest.mark.django_db(transaction=True)
def test_it_encrypts_existing_rows_when_migrating(project):
    before, after = ("tests_catalog", "0004_search_trigram_indexes"), ("tests_catalog", "0005_encrypt_variable_values")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old_state = executor.loader.project_state([before]).apps
        environment = old_state.get_model("tests_catalog", "Environment").objects.create(
            project_id=project.pk, name="legacy"
        )
        variable_model = old_state.get_model("tests_catalog", "EnvironmentVariable")
        variable_model.objects.create(environment_id=environment.pk, name="password", value=CANARY, secret=True)
        variable_model.objects.create(environment_id=environment.pk, name="user", value="", secret=False)
        assert _raw_values() == [CANARY, ""]

        executor = MigrationExecutor(connection)
        executor.migrate([after])
        raw_secret, raw_empty = _raw_values()
        assert raw_secret.startswith(crypto.TOKEN_PREFIX)
        assert raw_empty == ""
        assert EnvironmentVariable.objects.get(name="password").value == CANARY

        executor = MigrationExecutor(connection)
        executor.migrate([before])  # and back: the values are plain again
        assert _raw_values() == [CANARY, ""]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"ENVIRONMENT": "production"}, "SECRETS_ENCRYPTION_KEYS is required"),
        ({"ENVIRONMENT": "testing", "SECRETS_ENCRYPTION_KEYS": "not-a-key"}, "key 1 is not a Fernet key"),
    ],
)
def test_it_requires_a_valid_key_in_production(env, needle, tmp_path):
    deployed = {"SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "x.example", "DATA_DIR": str(tmp_path)}
    result = manage("check", env={**deployed, **env})
    assert result.returncode == 2
    assert needle in result.stderr
