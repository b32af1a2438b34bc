import pytest

from conftest import free_port

pytestmark = pytest.mark.django_db


def test_it_answers_liveness_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_is_ready_when_database_and_broker_answer(client, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": {"status": "ok"}, "broker": {"status": "ok"}}}


def test_it_is_not_ready_when_the_broker_port_is_closed(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"status": "ok"}
    assert body["checks"]["broker"]["status"] == "error"


def test_it_refuses_other_methods_on_health(client):
    assert client.post("/health").status_code == 405


def test_it_echoes_the_callers_request_id(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="ci-run-42")
    assert response["X-Request-ID"] == "ci-run-42"


def test_it_generates_a_distinct_request_id_when_none_is_sent(client):
    first = client.get("/health")["X-Request-ID"]
    second = client.get("/health")["X-Request-ID"]
    assert len(first) == 36
    assert first != second


def test_it_compresses_large_responses(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"


def test_it_sends_cors_headers_only_to_configured_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://qa.example.com"]
    allowed = client.get("/health", HTTP_ORIGIN="https://qa.example.com")
    refused = client.get("/health", HTTP_ORIGIN="https://evil.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://qa.example.com"
    assert "Access-Control-Allow-Origin" not in refused


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_it_serves_the_api_docs_without_any_cdn(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html
    assert "jsdelivr" not in html
