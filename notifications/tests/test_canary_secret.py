"""A canary secret goes through a whole run and appears nowhere a person or a machine can read it:
API responses, admin pages, artifact names, log lines, and the webhook bodies sent out."""

import logging

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from artifacts.models import Artifact
from conftest import api_client, case_with_steps, wait_for
from executions import schedules, worker
from executions import services as run_services
from executions.models import RunStatus
from executions.runner.browser import WorkerBrowser
from executions.tests.conftest import shop_url as shop_url
from jbtestsuite.celery import app as celery_app
from notifications import services
from tests_catalog import services as catalog_services
from tests_catalog.models import TestSuite

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

CANARY = "Canary-9f2e!pw"
OVERRIDE = "Canary-override-77"
STEPS = (
    ("open", "", "shop.html"),
    ("type", "#qty", "${password}"),
    ("click", "#add", ""),  # the page now shows "Cart: <secret>"
    ("screenshot", "", "after ${password}"),
    ("echo", "", "the password is ${password}"),
    ("execute_script", "", "console.log('typed ' + document.getElementById('qty').value)"),
    ("assert_text", "#heading", "${password}"),  # fails: evidence of a page holding the secret
)


@pytest.fixture
def canary_project(project, shop_url, editor):
    project.base_url = shop_url
    project.save()
    environment = catalog_services.environment_create(
        project=project, name="staging", variables=[{"name": "password", "value": CANARY, "secret": True}]
    )
    suite = TestSuite.objects.create(project=project, name="Checkout")
    suite.entries.create(case=case_with_steps(project, name="Pay", steps=STEPS), order_index=0)
    schedules.schedule_create(
        project=project, suite=suite, environment=environment, interval_seconds=3600,
        variables={"password": OVERRIDE},
    )  # fmt: skip
    return project, environment, suite


def _api_texts(client, project) -> dict[str, str]:
    texts = {}
    lists = ["projects", "environments", "tests", "suites", "executions", "suite-runs", "schedules",
             "notification-channels", "artifacts"]  # fmt: skip
    for name in lists:
        response = client.get(f"/api/v1/{name}/", {"limit": 100})
        assert response.status_code == 200, (name, response.content[:200])
        texts[name] = response.content.decode()
        for item in response.json()["items"]:
            detail = client.get(f"/api/v1/{name}/{item['id']}/")
            assert detail.status_code == 200, (name, detail.status_code)
            texts[f"{name}/{item['id']}"] = detail.content.decode()
    for artifact in Artifact.objects.all():
        download = client.get(f"/api/v1/artifacts/{artifact.pk}/download/")
        texts[f"download {artifact.pk}"] = download.get("Content-Disposition", "") + repr(b"".join(download))
    return texts


def _admin_texts(client) -> dict[str, str]:
    texts = {}
    for model, model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        changelist = client.get(reverse(f"admin:{info}_changelist"))
        if changelist.status_code != 200:
            continue
        texts[f"{info} list"] = changelist.content.decode()
        for pk in model_admin.get_queryset(changelist.wsgi_request).values_list("pk", flat=True)[:20]:
            page = client.get(reverse(f"admin:{info}_change", args=[pk]))
            texts[f"{info} {pk}"] = page.content.decode()
    return texts


def test_it_never_lets_the_canary_out(canary_project, editor, receiver, caplog, settings, django_user_model):
    project, environment, suite = canary_project
    caplog.set_level(logging.DEBUG)
    settings.PUBLIC_BASE_URL = "https://jb.example"
    services.notification_channel_create(
        project=project, name="hook", kind="webhook", url=receiver.url, secret="webhook-secret-123", on="always"
    )
    browsers = WorkerBrowser(worker.browser_config(), reuse=True)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"):
            run = run_services.suite_run_start(suite=suite, trigger="api", environment=environment, inline=True)
            execution = run.executions.get()
            worker.execution_run(execution_id=execution.pk, browsers=browsers)
            wait_for(lambda: receiver.requests, timeout=30, message="the webhook")
    finally:
        browsers.close()
    execution.refresh_from_db()
    assert execution.status == RunStatus.FAILED, execution.error_message
    assert execution.step_results.get(action="echo").message == "the password is ***"  # the secret was used

    seen: dict[str, str] = {}
    seen |= _api_texts(api_client(editor), project)
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-123")
    client = Client()
    client.force_login(superuser)
    seen |= _admin_texts(client)
    seen |= {f"artifact name {a.pk}": f"{a.original_filename} {a.file.name}" for a in Artifact.objects.all()}
    seen |= {f"webhook {index}": r.body.decode() for index, r in enumerate(receiver.requests)}
    seen["logs"] = caplog.text

    assert any(key.startswith("notifications_notificationdelivery ") for key in seen)  # admin pages were read
    assert Artifact.objects.filter(kind="screenshot").count() >= 2
    leaks = sorted(key for key, text in seen.items() if CANARY in text or OVERRIDE in text)
    assert leaks == []
