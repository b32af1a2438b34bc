"""The OpenAPI schema against the running API, and the step registry against every consumer."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import member
from tests_catalog import services, step_actions
from tests_catalog.admin import TestStepForm
from tests_catalog.api.serializers import ACTION_CHOICES
from tests_catalog.models import Role, TestStep

pytestmark = pytest.mark.django_db

# Positive data only, a few examples per operation, the same examples on every run.
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"mode": "positive", "max-examples": 25, "deterministic": True},
    }
)


# Loaded at collection (pytest-django has set Django up by then; no database is needed). The
# lazy `schemathesis.pytest.from_fixture` loader relies on a pytest internal that 9.x removed.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)


@pytest.fixture
def wsgi_requests_keep_the_test_connection(monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "100000/min"})
    # As Django's own test client does: the real WSGI handler would otherwise close the test's
    # connection (it is inside the test transaction) at the end of every request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def access_token(project):
    user = member(project, Role.MAINTAINER, "schemathesis")
    case = services.test_case_create(
        project=project, author=user, name="Seed", tags=["smoke"], steps=[{"action": "refresh"}]
    )
    services.environment_create(
        project=project, name="staging", variables=[{"name": "token", "value": "s3cret", "secret": True}]
    )
    services.suite_create(project=project, name="Smoke", case_ids=[case.pk])
    return str(RefreshToken.for_user(user).access_token)


@schema.parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_it_answers_as_the_schema_says(case, access_token, wsgi_requests_keep_the_test_connection):
    case.call_and_validate(
        # GZipMiddleware would compress JSON bodies, which the WSGI client does not unpack.
        headers={"Authorization": f"Bearer {access_token}", "Accept-Encoding": "identity"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )


def test_it_uses_one_step_vocabulary_everywhere():
    names = list(step_actions.ACTIONS)
    schema_doc = APIClient().get("/api/schema/?format=json").json()
    action_enum = schema_doc["components"]["schemas"]["ActionEnum"]
    assert action_enum["enum"] == names
    for action in step_actions.ACTIONS.values():
        assert action.doc in action_enum["description"]
    assert [name for name, _ in ACTION_CHOICES] == names
    assert [value for value, _ in TestStep._meta.get_field("action").choices] == names
    assert [value for value, _ in TestStepForm().fields["action"].choices if value] == names
    assert [value for value, _ in TestStep._meta.get_field("selector_type").choices] == list(
        step_actions.SELECTOR_TYPES
    )
    constraint = next(c for c in TestStep._meta.constraints if c.name == "teststep_action_known")
    assert list(constraint.condition.children[0][1]) == names
    selector_enum = schema_doc["components"]["schemas"]["SelectorTypeEnum"]["enum"]
    assert selector_enum == list(step_actions.SELECTOR_TYPES)


def test_it_knows_every_action_the_issue_asks_for():
    asked = [
        "open",
        "refresh",
        "back",
        "click",
        "double_click",
        "type",
        "clear",
        "press_key",
        "select",
        "check",
        "uncheck",
        "hover",
        "scroll_into_view",
        "switch_frame",
        "switch_window",
        "accept_alert",
        "dismiss_alert",
        "wait_for_visible",
        "wait_for_hidden",
        "wait_for_text",
        "wait_for_url",
        "pause",
        "assert_text",
        "assert_title",
        "assert_url",
        "assert_element_present",
        "assert_element_absent",
        "assert_visible",
        "assert_value",
        "assert_attribute",
        "assert_count",
        "store_text",
        "store_value",
        "store_attribute",
        "set_variable",
        "execute_script",
        "screenshot",
        "echo",
    ]
    assert set(asked) <= set(step_actions.ACTIONS)


def test_it_documents_the_error_envelope_on_every_operation():
    schema_doc = APIClient().get("/api/schema/?format=json").json()
    for path, operations in schema_doc["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            for status in ("400", "401", "404", "429"):
                assert status in operation["responses"], (method, path, status)


def test_it_documents_secret_values_as_nullable():
    schema_doc = APIClient().get("/api/schema/?format=json").json()
    value = schema_doc["components"]["schemas"]["Variable"]["properties"]["value"]
    assert value.get("nullable") is True
